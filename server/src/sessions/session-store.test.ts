import { Redis, type Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisCluster } from '../redis/redis-plugin.ts'
import { createTestRedisPrefix, TEST_REDIS_URL } from '../test/backends.ts'
import { startRedisCluster, type OwnRedisCluster } from '../test/redis-cluster.ts'
import { sleep } from '../test/test-app.ts'
import { createDatabase, type Db } from '../db/database.ts'
import { migrate } from '../db/migrator.ts'
import { createTestDatabase } from '../test/backends.ts'
import { testPgliteDir } from '../test/pglite-template.ts'
import { DatabaseSessionStore } from './database-session-store.ts'
import { MemorySessionStore } from './memory-session-store.ts'
import { RedisSessionStore } from './redis-session-store.ts'
import { tokenHash, type SessionLifetimes, type SessionStore } from './session-store.ts'

let redis: Redis
/** started by the first store that needs it */
let cluster: { servers: OwnRedisCluster; client: Cluster } | undefined
const prefixes: ReturnType<typeof createTestRedisPrefix>[] = []
const memoryStores: MemorySessionStore[] = []
const databases: { db: Db; drop: () => Promise<void> | void }[] = []
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL)
})
afterAll(async () => {
  await Promise.all(prefixes.map((prefix) => prefix.drop()))
  memoryStores.forEach((store) => store.close())
  for (const { db, drop } of databases) {
    await db.destroy()
    await drop()
  }
  redis.disconnect()
  cluster?.client.disconnect()
  await cluster?.servers.stop()
})

async function redisCluster(): Promise<Cluster> {
  if (!cluster) {
    const servers = await startRedisCluster()
    const client = createRedisCluster(servers.nodes)
    cluster = { servers, client }
    await client.connect()
  }
  return cluster.client
}

/** A migrated database holding users 1 and 2 (alice and bob), which sessions refer to. */
async function databaseWithUsers(kind: 'pglite' | 'postgres'): Promise<Db> {
  const made = kind === 'postgres' ? await createTestDatabase() : testPgliteDir()
  const db = createDatabase(
    'url' in made ? { kind: 'postgres', url: made.url } : { kind: 'pglite', dataDir: made.dataDir },
  )
  databases.push({ db, drop: made.drop })
  await migrate(db, 'latest')
  await db
    .insertInto('users')
    .values([alice, bob].map(({ email }) => ({ email, display_name: email, password: 'not a hash' })))
    .execute()
  return db
}

const databaseStore = (kind: 'pglite' | 'postgres') => async (lifetimes: SessionLifetimes) =>
  new DatabaseSessionStore(await databaseWithUsers(kind), lifetimes, () => {})

const stores: {
  name: string
  make: (lifetimes: SessionLifetimes) => SessionStore | Promise<SessionStore>
}[] = [
  {
    name: 'Redis',
    make: (lifetimes) => {
      const prefix = createTestRedisPrefix()
      prefixes.push(prefix)
      return new RedisSessionStore(redis, prefix.prefix, lifetimes, () => {})
    },
  },
  {
    // every command and script of the store keeps to one slot
    name: 'Redis Cluster',
    make: async (lifetimes) =>
      new RedisSessionStore(await redisCluster(), createTestRedisPrefix().prefix, lifetimes, () => {}),
  },
  {
    name: 'in-process',
    make: (lifetimes) => {
      const store = new MemorySessionStore(lifetimes)
      memoryStores.push(store)
      return store
    },
  },
  { name: 'database (PGlite)', make: databaseStore('pglite') },
  { name: 'database (PostgreSQL)', make: databaseStore('postgres') },
]

const alice = { id: '1', email: 'alice@example.com' }
const bob = { id: '2', email: 'bob@example.com' }
const long = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000 }

describe.each(stores)('$name session store', ({ make }) => {
  it('creates distinct sessions and finds their user', async () => {
    const store = await make(long)
    const [first, second] = [await store.create(alice), await store.create(alice)]
    expect(first).not.toBe(second)
    expect((await store.touch(first))?.user).toEqual(alice)
    expect((await store.touch(second))?.user).toEqual(alice)
    expect((await store.touch('no-such-token'))?.user).toBeUndefined()
  })

  it('slides the idle timeout on use and ends an idle session', async () => {
    // generous margins: a loaded machine may take a few hundred ms for one store call
    const store = await make({ idleTimeoutMs: 1_200, absoluteTimeoutMs: 60_000 })
    const used = await store.create(alice)
    const idle = await store.create(alice)
    for (let i = 0; i < 3; i++) {
      await sleep(600)
      expect((await store.touch(used))?.user).toEqual(alice)
    }
    expect((await store.touch(idle))?.user).toBeUndefined()
    await sleep(1_500)
    expect((await store.touch(used))?.user).toBeUndefined()
  })

  it('ends a session at its absolute lifetime even when used', async () => {
    const store = await make({ idleTimeoutMs: 300, absoluteTimeoutMs: 700 })
    const token = await store.create(alice)
    for (let i = 0; i < 3; i++) {
      await sleep(200)
      expect((await store.touch(token))?.user).toEqual(alice)
    }
    await sleep(250)
    expect((await store.touch(token))?.user).toBeUndefined()
  })

  it('revokes one session', async () => {
    const store = await make(long)
    const token = await store.create(alice)
    const other = await store.create(alice)
    expect(await store.revoke(token)).toEqual(alice)
    expect(await store.revoke(token)).toBeUndefined()
    expect((await store.touch(token))?.user).toBeUndefined()
    expect((await store.touch(other))?.user).toEqual(alice)
  })

  it("revokes all of one user's sessions and no one else's", async () => {
    const store = await make(long)
    const tokens = [await store.create(alice), await store.create(alice), await store.create(alice)]
    const bobs = await store.create(bob)
    await store.revoke(tokens[0]!)
    expect(await store.revokeAllForUser(alice.id)).toBe(2)
    for (const token of tokens) expect((await store.touch(token))?.user).toBeUndefined()
    expect((await store.touch(bobs))?.user).toEqual(bob)
    expect(await store.revokeAllForUser(alice.id)).toBe(0)
  })

  it("lists a user's live sessions, most recently used first, and ends one by its id for that user only", async () => {
    const store = await make(long)
    const laptop = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0', address: '198.51.100.7' }
    const phone = { userAgent: 'Mozilla/5.0 (iPhone) Safari/604.1', address: '2001:db8::1' }
    const older = await store.create(alice, laptop)
    await sleep(20)
    const newer = await store.create(alice, phone)
    await store.create(bob, laptop)
    await sleep(20)
    await store.touch(older)
    const listed = await store.list(alice.id)
    expect(listed.map((session) => session.id)).toEqual([tokenHash(older), tokenHash(newer)])
    expect(listed[0]).toMatchObject({ client: laptop })
    expect(listed[1]).toMatchObject({ client: phone })
    expect(listed[0]!.lastUsedAt - listed[0]!.createdAt).toBeGreaterThanOrEqual(30) // used 40 ms after
    expect(listed[1]!.lastUsedAt - listed[1]!.createdAt).toBeLessThan(10) // never used since (Redis: to the ms)
    expect(listed[0]!.expiresAt).toBeGreaterThan(listed[0]!.lastUsedAt)
    expect(JSON.stringify(listed)).not.toContain(older)

    expect(await store.revokeById(bob.id, tokenHash(newer))).toBe(false) // not bob's to end
    expect(await store.revokeById(alice.id, tokenHash(newer))).toBe(true)
    expect(await store.revokeById(alice.id, tokenHash(newer))).toBe(false)
    expect((await store.touch(newer))?.user).toBeUndefined()
    expect((await store.list(alice.id)).map((session) => session.id)).toEqual([tokenHash(older)])
  })
})

describe('database session store', () => {
  it('keeps only hashes, announces sessions that end early, and sweeps ended ones', async () => {
    const db = await databaseWithUsers('pglite')
    const heard: string[] = []
    const store = new DatabaseSessionStore(db, { idleTimeoutMs: 300, absoluteTimeoutMs: 60_000 }, (event) =>
      heard.push(event),
    )
    const [kept, revoked, idle] = [
      await store.create(alice),
      await store.create(alice),
      await store.create(bob),
    ]
    const rows = await db.selectFrom('sessions').selectAll().execute()
    expect(JSON.stringify(rows)).not.toContain(kept)
    expect(rows.map((row) => row.token_hash).sort()).toEqual([kept, revoked, idle].map(tokenHash).sort())

    await store.revoke(revoked)
    expect(heard).toEqual([`token:${tokenHash(revoked)}`])
    await sleep(200)
    await store.touch(kept)
    await sleep(200)
    expect(await store.sweep()).toBe(1) // bob's went idle
    expect((await store.touch(kept))?.user).toEqual(alice)
    await store.revokeAllForUser(alice.id)
    expect(heard).toEqual([`token:${tokenHash(revoked)}`, `user:${alice.id}`])
  })

  it("ends a user's sessions with the user", async () => {
    const db = await databaseWithUsers('pglite')
    const store = new DatabaseSessionStore(db, long, () => {})
    const token = await store.create(bob)
    await db.deleteFrom('users').where('id', '=', bob.id).execute()
    expect(await store.touch(token)).toBeUndefined()
  })
})

describe('Redis session store', () => {
  it('announces each session that ends early, so every process closes its sockets', async () => {
    const prefix = createTestRedisPrefix()
    prefixes.push(prefix)
    const heard: string[] = []
    const store = new RedisSessionStore(redis, prefix.prefix, long, (event) => heard.push(event))
    const [first, second] = [await store.create(alice), await store.create(alice)]
    await store.revoke(first)
    expect(await store.revokeById(bob.id, tokenHash(second))).toBe(false)
    expect(await store.revokeById(alice.id, tokenHash(second))).toBe(true)
    await store.revokeAllForUser(alice.id)
    expect(heard).toEqual([`token:${tokenHash(first)}`, `token:${tokenHash(second)}`, `user:${alice.id}`])
  })

  it('holds no live token, only its hash, and expires every key it writes', async () => {
    const prefix = createTestRedisPrefix()
    prefixes.push(prefix)
    const store = new RedisSessionStore(redis, prefix.prefix, long, () => {})
    const token = await store.create(alice)
    const keys = await redis.keys(`${prefix.prefix}*`)
    expect(keys.sort()).toEqual(
      [`${prefix.prefix}session:${tokenHash(token)}`, `${prefix.prefix}user-sessions:1`].sort(),
    )
    for (const key of keys) {
      const dump =
        (await redis.type(key)) === 'set' ? (await redis.smembers(key)).join() : await redis.get(key)
      expect(dump).not.toContain(token)
      expect(await redis.pttl(key)).toBeGreaterThan(0)
    }
    expect(await redis.pttl(`${prefix.prefix}session:${tokenHash(token)}`)).toBeLessThanOrEqual(
      long.idleTimeoutMs,
    )
  })
})
