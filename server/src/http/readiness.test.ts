import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { productionLikeEnv, realBackend } from '../test/backends.ts'
import { spawnServer, type ServerProcess } from '../test/server-process.ts'
import { startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket, refusedStatus } from '../test/ws-client.ts'

describe('/api/health/live and /api/health/ready', () => {
  const apps: TestApp[] = []
  afterAll(() => Promise.all(apps.map((t) => t.close())))

  it('are both 200 on a migrated database with Redis, and ready says what it checked', async () => {
    const t = await startTestApp(realBackend)
    apps.push(t)
    const live = await t.app.inject('/api/health/live')
    expect(live.statusCode).toBe(200)
    expect(live.json()).toEqual({ valid: true, data: { live: true } })
    const ready = await t.app.inject('/api/health/ready')
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({
      valid: true,
      data: { database: 'ok', sessions: 'ok', migrations: 'ok', shutdown: 'running' },
    })
    // every line says which process wrote it: its role and instance id
    const lines = t.logs.map((line) => JSON.parse(line) as { role?: string; instance?: string })
    expect(lines.length).toBeGreaterThan(3)
    for (const line of lines) expect(line).toMatchObject({ role: 'all', instance: t.app.instanceId })
  })

  it('ready is 503 with migrations pending on a database nobody migrated; live stays 200', async () => {
    const t = await startTestApp(realBackend, { MIGRATE_ON_START: 'false', APP_ROLE: 'ws' })
    apps.push(t)
    const ready = await t.app.inject('/api/health/ready')
    expect(ready.statusCode).toBe(503)
    expect(ready.json().data).toMatchObject({ database: 'ok', migrations: 'pending' })
    expect((await t.app.inject('/api/health/live')).statusCode).toBe(200)
  })
})

describe('SIGTERM on a ws process', () => {
  let server: ServerProcess | undefined
  let cleanup: (() => Promise<void>) | undefined
  afterEach(async () => {
    await server?.stop()
    await cleanup?.()
  })

  it('reports not-ready and refuses new sockets first, then closes the open ones with 1001 and exits 0', async () => {
    const backends = await productionLikeEnv({ SHUTDOWN_DRAIN_SECONDS: '1.5', LOG_LEVEL: 'info' })
    cleanup = backends.cleanup
    server = spawnServer({ ...backends.env, APP_ROLE: 'all', HOST: '127.0.0.1' })
    const api = await server.ready()
    const login = await fetch(`${api}/v1.0/user/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(backends.admin),
    })
    const token = ((await login.json()) as { data: { access_token: string } }).data.access_token
    const wsUrl = `${api.replace(/^http/, 'ws').replace(/\/api$/, '')}/ws`
    const socket = await openSocket(wsUrl, ['chat.v1', `bearer.${token}`])
    await socket.nextOfType('welcome')
    expect((await fetch(`${api}/health/ready`)).status).toBe(200)

    server.child.kill('SIGTERM')
    await expect.poll(async () => (await fetch(`${api}/health/ready`)).status).toBe(503)
    const draining = await fetch(`${api}/health/ready`)
    expect(((await draining.json()) as { data: { shutdown: string } }).data.shutdown).toBe('draining')
    // still serving the open socket meanwhile, but no new ones: nginx retries those on another process
    expect(socket.socket.readyState).toBe(socket.socket.OPEN)
    expect(await refusedStatus(wsUrl, ['chat.v1', `bearer.${token}`])).toBe(503)
    expect((await fetch(`${api}/health/live`)).status).toBe(200)

    expect((await socket.closed).code).toBe(1001)
    expect(await server.exited()).toBe(0)
    expect(server.output()).toMatch(/draining: not ready, refusing new WebSockets/)
  })
})
