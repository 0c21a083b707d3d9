import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config.ts'
import { buildApp, type App } from '../app.ts'
import { createTestDatabase, uniqueName } from '../test/backends.ts'
import { startOwnRedis, type OwnRedis } from '../test/redis-server.ts'
import { bearer, postJson } from '../test/test-app.ts'

const AUTH = '/api/v1.0/user/auth'
const UNAVAILABLE = { valid: false, data: 'Service temporarily unavailable; try again shortly' }

// Redis at maxmemory under noeviction refuses writes: a login (which counts attempts) answers 503, not
// 500; an open session, which only needs reads and an expiry bump, keeps working; nothing is evicted.
describe('Redis out of memory', () => {
  let redis: OwnRedis
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let app: App
  let admin: { email: string; password: string }
  let token: string

  beforeAll(async () => {
    redis = await startOwnRedis(['--maxmemory', '8mb', '--maxmemory-policy', 'noeviction'])
    database = await createTestDatabase()
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      API_ADMIN_EMAIL: `${uniqueName('admin')}@example.com`,
      API_ADMIN_PASSWORD: 'admin-password-for-tests',
    })
    admin = config.admin
    app = await buildApp(config)
    await app.ready()
    const login = await postJson(app, AUTH, admin)
    expect(login.statusCode).toBe(200)
    token = login.json().data.access_token
    // fill it: at most 400 values of 64 KiB (25 MiB), stopping at the first refusal
    const value = 'x'.repeat(64 * 1024)
    let full = false
    for (let i = 0; i < 400 && !full; i++) {
      full = await redis.client.set(`filler:${i}`, value).then(
        () => false,
        (error: Error) => /^OOM /.test(error.message),
      )
    }
    expect(full, 'Redis reached maxmemory').toBe(true)
    // then far below what it holds, so even a small write is refused however the memory moves meanwhile
    await redis.client.config('SET', 'maxmemory', '1mb')
  })
  afterAll(async () => {
    await app?.close()
    await redis?.stop()
    await database?.drop()
  })

  it('answers a login, right password or wrong, with a 503 in the usual envelope', async () => {
    for (const password of [admin.password, 'a-wrong-password']) {
      const response = await postJson(app, AUTH, { email: admin.email, password })
      expect(response.statusCode).toBe(503)
      expect(response.json()).toEqual(UNAVAILABLE)
    }
  })

  it('keeps an open session working, and evicts nothing', async () => {
    const me = await app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(token) })
    expect(me.statusCode).toBe(200)
    expect(await redis.client.exists('filler:0')).toBe(1)
  })
})
