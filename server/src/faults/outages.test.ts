import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildApp, type App } from '../app.ts'
import { loadConfig, type Config } from '../config/config.ts'
import {
  createTestDatabase,
  createTestRedisPrefix,
  TEST_POSTGRES_URL,
  TEST_REDIS_URL,
  uniqueName,
} from '../test/backends.ts'
import { startForwarder, type Forwarder } from '../test/tcp-relay.ts'
import { newEmail, postJson, sleep } from '../test/test-app.ts'
import { openSocket } from '../test/ws-client.ts'

/** `url` with its host and port replaced by the forwarder's. */
function through(url: string, forwarder: Forwarder): string {
  const forwarded = new URL(url)
  forwarded.hostname = '127.0.0.1'
  forwarded.port = String(forwarder.port)
  return forwarded.toString()
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

type Health = { statusCode: number; body: { valid: boolean; data: { database: string; sessions: string } } }

interface Stack {
  app: App
  config: Config
  postgres: Forwarder
  redis: Forwarder
  close(): Promise<void>
}

/** An app on a database and Redis prefix of its own, each reached through a forwarder a test can cut. */
async function startStack(): Promise<Stack> {
  const database = await createTestDatabase()
  const redisPrefix = createTestRedisPrefix()
  const postgresUrl = new URL(TEST_POSTGRES_URL)
  const redisUrl = new URL(TEST_REDIS_URL)
  const postgres = await startForwarder(postgresUrl.hostname, Number(postgresUrl.port || 5432))
  const redis = await startForwarder(redisUrl.hostname, Number(redisUrl.port || 6379))
  const config = loadConfig({
    DATABASE_URL: through(database.url, postgres),
    REDIS_URL: through(TEST_REDIS_URL, redis),
    REDIS_KEY_PREFIX: redisPrefix.prefix,
    LOG_LEVEL: 'silent',
    API_ADMIN_EMAIL: `${uniqueName('admin')}@example.com`,
    API_ADMIN_PASSWORD: 'admin-password-for-tests',
  })
  const app = await buildApp(config)
  await app.ready()
  return {
    app,
    config,
    postgres,
    redis,
    close: async () => {
      await app.close()
      await Promise.all([postgres.stop(), redis.stop()])
      await Promise.all([database.drop(), redisPrefix.drop()])
    },
  }
}

// Each test starts its own stack and cuts what it needs, so none depends on another's outage.
describe('GET /api/health when PostgreSQL and Redis go away', () => {
  let stack: Stack | undefined
  beforeEach(async () => {
    stack = await startStack()
  })
  afterEach(async () => {
    await stack?.close()
    stack = undefined
  })

  const health = async (): Promise<Health> => {
    const response = await withTimeout(
      stack!.app.inject({ method: 'GET', url: '/api/health' }),
      10_000,
      'health',
    )
    return { statusCode: response.statusCode, body: response.json() }
  }

  /** Asks for health until `done` holds: at most `attempts` times and `budgetMs` in all. */
  async function healthUntil(done: (health: Health) => boolean, attempts = 20, budgetMs = 8_000) {
    const deadline = Date.now() + budgetMs
    let last = await health()
    for (let attempt = 1; attempt < attempts && !done(last) && Date.now() < deadline; attempt++) {
      await sleep(200)
      last = await health()
    }
    return last
  }

  it('answers 200 with both ok while both answer', async () => {
    expect(await health()).toEqual({
      statusCode: 200,
      body: { valid: true, data: { database: 'ok', sessions: 'ok' } },
    })
  })

  it('answers 503 with sessions unavailable within a few seconds of losing Redis', async () => {
    await stack!.redis.stop()
    const started = Date.now()
    const result = await healthUntil((h) => h.body.data.sessions === 'unavailable')
    expect(Date.now() - started).toBeLessThan(8_000)
    expect(result).toEqual({
      statusCode: 503,
      body: { valid: false, data: { database: 'ok', sessions: 'unavailable' } },
    })
    // counted for the dashboard: both connections, the command one and the bus's subscriber
    const errors = await stack!.app.metrics.redisErrors.get()
    const byConnection = (connection: string) =>
      errors.values.find((sample) => sample.labels.connection === connection)?.value ?? 0
    expect(byConnection('command')).toBeGreaterThan(0)
    expect(byConnection('subscriber')).toBeGreaterThan(0)
  })

  it('answers a login without Redis promptly with a 503 in the usual envelope', async () => {
    await stack!.redis.stop()
    const { email, password } = stack!.config.admin
    const response = await withTimeout(
      postJson(stack!.app, '/api/v1.0/user/auth', { email, password }),
      10_000,
      'login',
    )
    expect(response.statusCode).toBe(503)
    expect(response.headers['content-type']).toContain('application/json')
    expect(response.json()).toEqual({
      valid: false,
      data: 'Service temporarily unavailable; try again shortly',
    })
    expect(response.headers['set-cookie']).toBeUndefined()
  })

  it('reports the database unavailable once PostgreSQL is lost, sessions still ok', async () => {
    await stack!.postgres.stop()
    const result = await healthUntil((h) => h.body.data.database === 'unavailable')
    expect(result).toEqual({
      statusCode: 503,
      body: { valid: false, data: { database: 'unavailable', sessions: 'ok' } },
    })
    // the idle pooled connections' errors, counted (and logged) rather than swallowed
    const errors = await stack!.app.metrics.postgresErrors.get()
    expect(errors.values[0]?.value).toBeGreaterThan(0)
  })

  /** A login as the admin: its status, and how long the answer took. */
  async function timedLogin(): Promise<{ status: number; ms: number }> {
    const { email, password } = stack!.config.admin
    const started = Date.now()
    const response = await withTimeout(
      postJson(stack!.app, '/api/v1.0/user/auth', { email, password }),
      20_000,
      'login',
    )
    return { status: response.statusCode, ms: Date.now() - started }
  }

  // A frozen server accepts connections and never answers: timeouts turn that into a 503 in bounded time
  // (pg: 3 s to connect, 5 s a query; ioredis: 2 s a command), and the app recovers when it answers again.
  it('answers 503 in bounded time while PostgreSQL is frozen, and logs in again once it thaws', async () => {
    expect((await timedLogin()).status).toBe(200)
    stack!.postgres.freeze()
    const frozen = await timedLogin()
    expect(frozen.status).toBe(503)
    expect(frozen.ms).toBeLessThan(9_000)
    const result = await healthUntil((h) => h.body.data.database === 'unavailable')
    expect(result.statusCode).toBe(503)
    stack!.postgres.thaw()
    const recovered = await healthUntil((h) => h.statusCode === 200, 60, 15_000)
    expect(recovered.statusCode).toBe(200)
    expect((await timedLogin()).status).toBe(200)
  })

  it('answers 503 in bounded time while Redis is frozen, and logs in again once it thaws', async () => {
    expect((await timedLogin()).status).toBe(200)
    stack!.redis.freeze()
    const frozen = await timedLogin()
    expect(frozen.status).toBe(503)
    expect(frozen.ms).toBeLessThan(6_000)
    stack!.redis.thaw()
    const recovered = await healthUntil((h) => h.statusCode === 200, 60, 15_000)
    expect(recovered.statusCode).toBe(200)
    expect((await timedLogin()).status).toBe(200)
  })

  // A send whose store cannot finish answers `unavailable` with its clientId as `ref`, in bounded time, so
  // the client knows to re-send it; once PostgreSQL answers again the re-send is stored, once.
  it('answers a chat send unavailable with its ref while PostgreSQL is frozen, and stores the re-send once it thaws', async () => {
    const app = stack!.app
    const wsUrl = `${(await app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')}/ws`
    const registered = await postJson(app, '/api/v1.0/user/register', {
      email: newEmail(),
      password: 'a-good-password',
    })
    const token = registered.json().data.access_token as string
    const socket = await openSocket(wsUrl, ['chat.v1', `bearer.${token}`])
    const send = (clientId: string) =>
      socket.socket.send(JSON.stringify({ type: 'send', room: 'general', clientId, text: clientId }))
    socket.socket.send(JSON.stringify({ type: 'join', room: 'general' }))
    await socket.nextOfType('joined')

    stack!.postgres.freeze()
    const started = Date.now()
    send('while-frozen')
    const refused = await socket.nextOfType<{ code: string; ref: string }>('error', undefined, 15_000)
    expect(refused).toMatchObject({ code: 'unavailable', ref: 'while-frozen' })
    expect(Date.now() - started).toBeLessThan(9_000)

    stack!.postgres.thaw()
    await healthUntil((h) => h.statusCode === 200, 60, 15_000)
    send('while-frozen')
    const ack = await socket.nextOfType<{ clientId: string; seq: number }>('ack', undefined, 10_000)
    expect(ack.clientId).toBe('while-frozen')
    // the frozen insert may have gone through when the held bytes were delivered: still one message
    const stored = await app.db
      .selectFrom('messages')
      .select('seq')
      .where('client_id', '=', 'while-frozen')
      .execute()
    expect(stored.map((row) => Number(row.seq))).toEqual([ack.seq])
    socket.socket.terminate()
  })
})
