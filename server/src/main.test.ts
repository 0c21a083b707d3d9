import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnServer, type ServerProcess } from './test/server-process.ts'

describe('main, the embedded default', () => {
  let server: ServerProcess | undefined
  let dataDir: string | undefined
  afterEach(async () => {
    await server?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('starts with no services, says which backends it uses, logs the admin in, and stops on SIGTERM', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'pglite-'))
    // `npm start` as a fresh machine runs it: no DATABASE_URL, no REDIS_URL, nothing but Node
    server = spawnServer({ PGLITE_DATA_DIR: dataDir, API_MODE: 'dev' })
    const url = await server.ready()
    expect(server.output()).toContain(`database: embedded PGlite (${dataDir})`)
    expect(server.output()).toContain('sessions: in this process (no REDIS_URL)')

    const response = await fetch(`${url}/v1.0/user/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', password: 'change-me-admin-password' }),
    })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { data: { access_token: string } }).data.access_token).toMatch(
      /^[A-Za-z0-9_-]{43}$/,
    )
    expect(await server.stop()).toBe(0)
  })

  it('refuses to start on a bad variable, naming it', async () => {
    server = spawnServer({ PORT: 'eighty', PGLITE_DATA_DIR: 'memory://' })
    expect(await server.exited()).toBe(1)
    expect(server.output()).toContain(
      'Cannot start: invalid configuration: PORT must be integer (got "eighty")',
    )
  })

  it('refuses the placeholder admin password in production', async () => {
    server = spawnServer({
      API_MODE: 'production',
      API_ADMIN_EMAIL: 'admin@example.com',
      API_ADMIN_PASSWORD: 'change-me-admin-password',
      PGLITE_DATA_DIR: 'memory://',
    })
    expect(await server.exited()).toBe(1)
    expect(server.output()).toContain('API_ADMIN_PASSWORD is the placeholder')
  })
})
