import { spawn } from 'node:child_process'
import path from 'node:path'
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../test/backends.ts'
import { UserRepository } from '../users/user-repository.ts'
import { createDatabase, type Db } from './database.ts'
import { migrations } from './migrations/index.ts'
import { createMigrator, migrate, MigrationError } from './migrator.ts'

const serverDir = path.resolve(import.meta.dirname, '../..')
const FIRST = '0001-create-users'
const names = Object.keys(migrations)
const last = names.at(-1)!

/** How many of our tables exist: `users` is the one every version has. */
async function usersTables(db: Db): Promise<number> {
  const { rows } = await sql<{ count: string | number }>`
    select count(*) as count from information_schema.tables
    where table_schema = current_schema() and table_name = 'users'`.execute(db)
  return Number(rows[0]!.count)
}

/** The migrations the database says it has applied, in order. */
async function applied(db: Db): Promise<string[]> {
  return (await createMigrator(db).getMigrations())
    .filter((migration) => migration.executedAt !== undefined)
    .map((migration) => migration.name)
}

/** latest -> reset -> latest, checking what each step did; the same on every backend. */
async function latestResetLatest(db: Db) {
  const first = await migrate(db, 'latest')
  expect(first.results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual(
    names.map((name) => [name, 'Up', 'Success']),
  )
  expect(await usersTables(db)).toBe(1)
  expect(await applied(db)).toEqual(names)

  expect((await migrate(db, 'latest')).results).toEqual([])

  const reset = await migrate(db, 'reset')
  expect(reset.results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual(
    [...names].reverse().map((name) => [name, 'Down', 'Success']),
  )
  expect(await usersTables(db)).toBe(0)
  expect(await applied(db)).toEqual([])

  await migrate(db, 'latest')
  expect(await usersTables(db)).toBe(1)
  expect(await applied(db)).toEqual(names)
}

describe('migrations on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  const opened: Db[] = []
  const open = () => {
    const db = createDatabase({ kind: 'postgres', url: database.url })
    opened.push(db)
    return db
  }
  beforeEach(async () => {
    database = await createTestDatabase()
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.destroy()))
    await database?.drop()
  })

  it('applies every migration, resets to nothing, and applies them again', async () => {
    await latestResetLatest(open())
  })

  it('takes the last migration down and puts it back up', async () => {
    const db = open()
    await migrate(db, 'latest')
    const down = await migrate(db, 'down')
    expect(down.results?.map((r) => [r.migrationName, r.direction])).toEqual([[last, 'Down']])
    expect(await applied(db)).toEqual(names.slice(0, -1))
    const up = await migrate(db, 'up')
    expect(up.results?.map((r) => [r.migrationName, r.direction])).toEqual([[last, 'Up']])
    expect(await applied(db)).toEqual(names)
    expect(await usersTables(db)).toBe(1)
  })

  it("migrates 'to 0' (nothing) and 'to' a migration by name", async () => {
    const db = open()
    await migrate(db, 'to', FIRST)
    expect(await applied(db)).toEqual([FIRST])
    expect(await usersTables(db)).toBe(1)
    await migrate(db, 'to', '0')
    expect(await applied(db)).toEqual([])
    expect(await usersTables(db)).toBe(0)
  })

  it("refuses 'to' an unknown name, or no name, with a MigrationError and changes nothing", async () => {
    const db = open()
    await migrate(db, 'latest')
    await expect(migrate(db, 'to', '9999-no-such-migration')).rejects.toThrow(MigrationError)
    await expect(migrate(db, 'to', '9999-no-such-migration')).rejects.toThrow(/9999-no-such-migration/)
    await expect(migrate(db, 'to')).rejects.toThrow(MigrationError)
    expect(await applied(db)).toEqual(names)
  })

  it('lets two processes migrate at once: both succeed and each migration is applied exactly once', async () => {
    const [one, two] = [open(), open()]
    const results = await Promise.all([migrate(one, 'latest'), migrate(two, 'latest')])
    const appliedNow = results.flatMap((resultSet) => resultSet.results ?? [])
    expect(appliedNow.map((r) => r.migrationName).sort()).toEqual(names)
    expect(appliedNow.every((r) => r.status === 'Success')).toBe(true)
    const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(one)
    expect(rows.map((row) => row.name)).toEqual(names)
    expect(await usersTables(two)).toBe(1)
  })

  it("adds users.disabled (false for existing users) and takes it away again on 'down'", async () => {
    const db = open()
    await migrate(db, 'to', '0002-create-chat')
    await sql`insert into users (email, password) values ('old@x.io', 'hash')`.execute(db)
    await migrate(db, 'to', '0003-add-user-disabled')
    expect(await new UserRepository(db).findByEmail('old@x.io')).toMatchObject({ disabled: false })
    await migrate(db, 'to', '0002-create-chat')
    const { rows } = await sql<{ name: string }>`
      select column_name as name from information_schema.columns
      where table_schema = current_schema() and table_name = 'users'`.execute(db)
    expect(rows.map((row) => row.name)).not.toContain('disabled')
    expect(rows.map((row) => row.name)).toContain('is_admin')
  })

  it("gives existing users a display name and counts them confirmed, and takes the name away on 'down'", async () => {
    const db = open()
    await migrate(db, 'to', '0010-add-user-deleted')
    await sql`insert into users (email, password) values ('zoe.u@x.io', 'hash'), ('gone@x.io', 'hash')`.execute(
      db,
    )
    await sql`update users set deleted_on = now() where email = 'gone@x.io'`.execute(db)
    await migrate(db, 'to', '0012-confirm-existing-users')
    const { rows } = await sql<{ email: string; display_name: string; confirmed: boolean }>`
      select email, display_name, confirmed from users order by email`.execute(db)
    expect(rows).toEqual([
      { email: 'gone@x.io', display_name: 'Deleted user', confirmed: false },
      { email: 'zoe.u@x.io', display_name: 'zoe.u', confirmed: true },
    ])
    await migrate(db, 'to', '0010-add-user-deleted')
    const columns = await sql<{ name: string }>`
      select column_name as name from information_schema.columns
      where table_schema = current_schema() and table_name = 'users'`.execute(db)
    expect(columns.rows.map((row) => row.name)).not.toContain('display_name')
  })

  it('keeps existing rooms public, makes creators owners and writers members with all read, and goes back down', async () => {
    const db = open()
    await migrate(db, 'to', '0012-confirm-existing-users')
    await sql`insert into users (email, password, display_name) values
      ('ann@x.io', 'h', 'ann'), ('bob@x.io', 'h', 'bob'), ('cy@x.io', 'h', 'cy')`.execute(db)
    await sql`insert into rooms (name, created_by, last_seq)
      select 'design', id, 2 from users where email = 'ann@x.io'`.execute(db)
    await sql`insert into messages (room_id, seq, user_id, client_id, body)
      select r.id, s.seq, u.id, 'c' || s.seq, 'hi'
      from rooms r, users u, (values (1), (2)) as s(seq)
      where r.name = 'design' and u.email = case s.seq when 1 then 'ann@x.io' else 'bob@x.io' end`.execute(db)
    await migrate(db, 'to', '0013-create-room-members')
    const rooms = await sql<{ name: string; kind: string; title: string; topic: string }>`
      select name, kind, title, topic from rooms order by name`.execute(db)
    expect(rooms.rows).toEqual([
      { name: 'design', kind: 'public', title: 'design', topic: '' },
      { name: 'general', kind: 'public', title: 'general', topic: '' },
    ])
    const members = await sql<{ email: string; role: string; last_read_seq: string }>`
      select u.email, m.role, m.last_read_seq::text as last_read_seq
      from room_members m join users u on u.id = m.user_id order by u.email`.execute(db)
    expect(members.rows).toEqual([
      { email: 'ann@x.io', role: 'owner', last_read_seq: '2' },
      { email: 'bob@x.io', role: 'member', last_read_seq: '2' },
    ])
    await expect(
      sql`insert into room_members (room_id, user_id, role) select r.id, u.id, 'admin'
        from rooms r, users u where r.name = 'general' and u.email = 'cy@x.io'`.execute(db),
    ).rejects.toThrow(/check/)
    await migrate(db, 'to', '0012-confirm-existing-users')
    const tables = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_name = 'room_members'`.execute(db)
    expect(tables.rows).toEqual([])
    const columns = await sql<{ name: string }>`
      select column_name as name from information_schema.columns
      where table_schema = current_schema() and table_name = 'rooms'`.execute(db)
    expect(columns.rows.map((row) => row.name).sort()).toEqual([
      'created_by',
      'created_on',
      'id',
      'last_seq',
      'name',
    ])
  })

  it('indexes messages by room and seq with their author, keeping every message, and drops the index on down', async () => {
    const db = open()
    await migrate(db, 'to', '0013-create-room-members')
    await sql`insert into users (email, password, display_name) values ('ann@x.io', 'h', 'ann')`.execute(db)
    await sql`insert into messages (room_id, seq, user_id, client_id, body)
      select r.id, 1, u.id, 'c1', 'kept' from rooms r, users u where r.name = 'general'`.execute(db)
    const index = () =>
      sql<{ definition: string }>`select indexdef as definition from pg_indexes
        where tablename = 'messages' and indexname = 'messages_room_seq_author_idx'`.execute(db)
    await migrate(db, 'to', '0016-index-unread-counts')
    expect((await index()).rows.map((row) => row.definition)).toEqual([
      expect.stringMatching(/\(room_id, seq\) INCLUDE \(user_id\)/),
    ])
    await migrate(db, 'to', '0013-create-room-members')
    expect((await index()).rows).toEqual([])
    const bodies = await sql<{ body: string }>`select body from messages`.execute(db)
    expect(bodies.rows).toEqual([{ body: 'kept' }])
  })

  it('makes email unique regardless of case', async () => {
    const db = open()
    await migrate(db, 'latest')
    const users = new UserRepository(db)
    const first = await users.insert({ email: 'A@x.io', passwordHash: 'hash-one' })
    expect(first).toMatchObject({ email: 'A@x.io', admin: false })
    expect(await users.insert({ email: 'a@x.io', passwordHash: 'hash-two' })).toBeUndefined()
    expect(await users.findByEmail('a@X.IO')).toMatchObject({ id: first!.id, passwordHash: 'hash-one' })
    // the index itself refuses it, not only the repository's ON CONFLICT
    await expect(
      db.insertInto('users').values({ email: 'A@X.IO', display_name: 'A', password: 'hash-three' }).execute(),
    ).rejects.toThrow(/users_email_lower_key/)
  })
})

describe('migrations on embedded PGlite', () => {
  let db: Db | undefined
  afterEach(async () => {
    await db?.destroy()
    db = undefined
  })

  it('applies every migration, resets to nothing, and applies them again', async () => {
    db = createDatabase({ kind: 'pglite', dataDir: 'memory://' })
    await latestResetLatest(db)
  })
})

/** `npx tsx src/db/migrate-cli.ts ...args` against `databaseUrl`, killed if it runs past `timeoutMs`. */
function runCli(args: string[], databaseUrl: string, timeoutMs = 60_000) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(DATABASE_URL|REDIS_URL|POSTGRES_|API_|PG)/.test(name)),
  )
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/db/migrate-cli.ts', ...args], {
      cwd: serverDir,
      env: { ...inherited, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', API_MODE: 'dev' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`migrate-cli ${args.join(' ')} ran over ${timeoutMs} ms: ${stdout}${stderr}`))
    }, timeoutMs)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

describe('the migrate CLI', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db
  beforeEach(async () => {
    database = await createTestDatabase()
    db = createDatabase({ kind: 'postgres', url: database.url })
  })
  afterEach(async () => {
    await db?.destroy()
    await database?.drop()
  })

  it("'latest' applies the migrations, says so, and exits 0", async () => {
    const { code, stdout, stderr } = await runCli(['latest'], database.url)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toContain(`Up ${FIRST}: Success`)
    expect(await applied(db)).toEqual(names)
  })

  it('exits 2 with the usage for an unknown command, touching nothing', async () => {
    const { code, stderr } = await runCli(['bogus'], database.url)
    expect(code).toBe(2)
    expect(stderr).toContain('usage:')
    expect(stderr).toContain('latest | up | down | to | reset')
    expect(await usersTables(db)).toBe(0)
  })

  it("exits 1 and names the migration for 'to' an unknown one", async () => {
    const { code, stderr } = await runCli(['to', 'nope'], database.url)
    expect(code).toBe(1)
    expect(stderr).toContain("unknown migration 'nope'")
    expect(await usersTables(db)).toBe(0)
  })
})
