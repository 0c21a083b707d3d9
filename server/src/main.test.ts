import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createServer, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { testPgliteDir } from './test/pglite-template.ts'
import { freePort } from './test/ports.ts'
import { spawnServer, type ServerProcess } from './test/server-process.ts'

// each test starts a real process (tsx compiling the server first): roomier than a unit test's 30 s when
// the machine is busy
describe('main, the embedded default', { timeout: 60_000 }, () => {
  let server: ServerProcess | undefined
  let dataDir: string | undefined
  let migrated: ReturnType<typeof testPgliteDir> | undefined
  afterEach(async () => {
    await server?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    migrated?.drop()
    migrated = undefined
  })
  /** an embedded database already migrated, for tests about what comes after the database is open */
  const migratedDataDir = () => {
    migrated = testPgliteDir()
    return migrated.dataDir
  }

  it('starts with no services, says which backends it uses, logs the admin in, stops on SIGTERM, and keeps the session across a restart', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'pglite-'))
    // `npm start` as a fresh machine runs it: no DATABASE_URL, no REDIS_URL, nothing but Node
    server = spawnServer({ PGLITE_DATA_DIR: dataDir, API_MODE: 'dev' })
    const url = await server.ready()
    expect(server.output()).toContain(`database: embedded PGlite (${dataDir})`)
    expect(server.output()).toContain('sessions: in the database; pub/sub: in this process (no REDIS_URL)')

    const response = await fetch(`${url}/v1.0/user/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', password: 'change-me-admin-password' }),
    })
    expect(response.status).toBe(200)
    const token = ((await response.json()) as { data: { access_token: string } }).data.access_token
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(await server.stop()).toBe(0)

    // its sessions live in its database, so a restart logs nobody out
    server = spawnServer({ PGLITE_DATA_DIR: dataDir, API_MODE: 'dev' })
    const restarted = await server.ready()
    const me = await fetch(`${restarted}/v1.0/user/me`, { headers: { authorization: `Bearer ${token}` } })
    expect(me.status).toBe(200)
    expect(((await me.json()) as { data: { email: string } }).data.email).toBe('admin@example.com')
  })

  it('refuses to start on a bad variable, naming it', async () => {
    server = spawnServer({ PORT: 'eighty', PGLITE_DATA_DIR: 'memory://' })
    expect(await server.exited()).toBe(1)
    expect(server.output()).toContain(
      'Cannot start: invalid configuration: PORT must be integer (got "eighty")',
    )
  })

  // One line saying what is wrong and what to do, and exit 1: no stack trace for a setup mistake.
  const startupRefusal = (output: string) => {
    const lines = output.split('\n').filter((line) => line.includes('Cannot start:'))
    expect(lines).toHaveLength(1)
    expect(output).not.toMatch(/\n\s+at /)
    return lines[0]
  }

  it('says in one line that the database does not exist, and how to make it', async () => {
    server = spawnServer({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/no_such_database_here' })
    expect(await server.exited()).toBe(1)
    expect(startupRefusal(server.output())).toContain(
      'database "no_such_database_here" does not exist on PostgreSQL at 127.0.0.1:5432: create it (createdb',
    )
  })

  it('says in one line that PostgreSQL cannot be reached', async () => {
    server = spawnServer({ DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/postgres` })
    expect(await server.exited()).toBe(1)
    expect(startupRefusal(server.output())).toMatch(
      /cannot reach PostgreSQL at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    )
  })

  it('says in one line that Redis cannot be reached', async () => {
    server = spawnServer({
      PGLITE_DATA_DIR: migratedDataDir(),
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    })
    expect(await server.exited()).toBe(1)
    expect(startupRefusal(server.output())).toMatch(
      /cannot reach Redis at 127\.0\.0\.1:\d+ \(ECONNREFUSED\): is it running\? Check REDIS_URL/,
    )
  })

  /** Starts the server with `variable` set to a port something else holds; answers its one-line refusal. */
  async function refusalOnHeldPort(
    variable: 'PORT' | 'METRICS_PORT',
  ): Promise<{ port: number; refusal: string | undefined }> {
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const { port } = holder.address() as AddressInfo
    try {
      server = spawnServer({
        PGLITE_DATA_DIR: migratedDataDir(),
        HOST: '127.0.0.1',
        [variable]: String(port),
      })
      expect(await server.exited()).toBe(1)
      return { port, refusal: startupRefusal(server.output()) }
    } finally {
      holder.close()
    }
  }

  it('says in one line that the port is taken', async () => {
    const { port, refusal } = await refusalOnHeldPort('PORT')
    expect(refusal).toContain(`port ${port} on 127.0.0.1 is in use: stop what holds it, or set PORT`)
  })

  it('says in one line that the metrics port is taken, naming METRICS_PORT', async () => {
    const { port, refusal } = await refusalOnHeldPort('METRICS_PORT')
    expect(refusal).toContain(`port ${port} on 127.0.0.1 is in use: stop what holds it, or set METRICS_PORT`)
  })

  it('refuses the placeholder admin password in production', async () => {
    server = spawnServer({
      API_MODE: 'production',
      API_ADMIN_EMAIL: 'admin@example.com',
      API_ADMIN_PASSWORD: 'change-me-admin-password',
      PGLITE_DATA_DIR: migratedDataDir(),
    })
    expect(await server.exited()).toBe(1)
    expect(server.output()).toContain('API_ADMIN_PASSWORD is the placeholder')
  })
})
