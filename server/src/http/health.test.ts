import net, { type AddressInfo } from 'node:net'
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
import { postJson, sleep } from '../test/test-app.ts'

interface Forwarder {
  port: number
  /** closes the listener and cuts every connection through it, both ends */
  stop(): Promise<void>
  /** keeps every connection open but holds what goes through, as a stalled server or a partition does */
  freeze(): void
  /** delivers what was held, and relays again */
  thaw(): void
}

/** A TCP relay to `host:port`: stopping it is a network failure as the app sees it. */
async function startForwarder(host: string, port: number): Promise<Forwarder> {
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  let frozen = false
  const held: { to: net.Socket; chunk: Buffer }[] = []
  const relay = (from: net.Socket, to: net.Socket) =>
    from.on('data', (chunk: Buffer) => (frozen ? held.push({ to, chunk }) : to.write(chunk)))
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host)
    track(client)
    track(upstream)
    const cut = () => {
      client.destroy()
      upstream.destroy()
    }
    for (const socket of [client, upstream]) {
      socket.once('error', cut)
      socket.once('close', cut)
    }
    relay(client, upstream)
    relay(upstream, client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  let stopped: Promise<void> | undefined
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => (frozen = true),
    thaw: () => {
      frozen = false
      for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk)
    },
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })),
  }
}

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
})
