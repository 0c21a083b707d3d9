import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ConfigError, EnvSchema, loadConfig, PLACEHOLDER_ADMIN, repositoryRoot } from './config.ts'

const ENV_EXAMPLE = path.join(repositoryRoot, '.env.example')

/** Variables `.env.example` may name that the server itself never reads. */
const COMPOSE_ONLY = [
  'ADMINER_DEFAULT_SERVER',
  ...[
    'POSTGRES_SUPERUSER',
    'POSTGRES_SUPERUSER_PASSWORD',
    'REDIS_PASSWORD',
    'HTTP_PORT',
    'HTTPS_PORT',
    'CERTS_DIR',
    'PROMETHEUS_RETENTION',
  ],
  // make stack's
  ...['NGINX_PORT', 'NGINX_TLS_PORT', 'API_PORT', 'WS_PORTS', 'ADMINER_PORT', 'SPA_STATIC_PORT', 'STACK_DIR'],
  'GRAFANA_PORT',
  'MAIL_UI_PORT',
  ...['TLS_CERTIFICATE', 'TLS_CERTIFICATE_KEY'],
]

const productionAdmin = {
  API_MODE: 'production',
  API_ADMIN_EMAIL: 'root@example.org',
  API_ADMIN_PASSWORD: 'a-real-production-password',
}

/** The ConfigError that `env` produces; fails the test when it loads or throws anything else. */
function configError(env: Record<string, string>): ConfigError {
  let config: unknown
  try {
    config = loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`expected a ConfigError, got a config: ${JSON.stringify(config)}`)
}

/** Every variable `.env.example` names, set (`NAME=value`) or commented out (`# NAME=value`). */
function envExampleNames(): string[] {
  return readFileSync(ENV_EXAMPLE, 'utf8')
    .split('\n')
    .flatMap((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line.trim())?.[1] ?? [])
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      mode: 'dev',
      http: { host: '127.0.0.1', port: 8000, trustedProxies: [] },
      metrics: { port: undefined, host: '127.0.0.1' },
      logLevel: 'info',
      admin: PLACEHOLDER_ADMIN,
      databaseUrl: undefined,
      pgliteDataDir: path.join(repositoryRoot, '.data', 'pglite'),
      migrateOnStart: true,
      shutdownDrainMs: 0,
      redisUrl: undefined,
      redisClusterNodes: undefined,
      redisKeyPrefix: 'chat:',
      session: {
        idleTimeoutMs: 30 * 60 * 1000,
        absoluteTimeoutMs: 12 * 60 * 60 * 1000,
        cookieName: 'session',
        cookieSecure: false,
      },
      loginLimits: {
        maxFailuresPerAccount: 10,
        maxFailuresPerClient: 5,
        maxFailuresPerAddress: 100,
        windowSeconds: 15 * 60,
      },
      registrationLimits: { maxPerAddress: 10, windowSeconds: 60 * 60 },
      mail: {
        smtpUrl: undefined,
        verification: 'optional',
        from: 'Chat <chat@localhost>',
        publicUrl: 'http://localhost:8000',
      },
      role: 'all',
      websocket: {
        heartbeatIntervalMs: 30_000,
        allowedOrigins: [],
        maxMessageBytes: 16_384,
        maxConnectionsPerUser: 20,
        sendBufferLimit: 1_048_576,
        sessionCheckIntervalMs: 5_000,
      },
      chat: { historyLimit: 50, maxBatch: 256, messagesPerSecond: 10, presenceIntervalMs: 30_000 },
    })
  })

  it('treats an empty variable as unset', () => {
    const config = loadConfig({ PORT: '', API_MODE: '', DATABASE_URL: '' })
    expect(config.http.port).toBe(8000)
    expect(config.mode).toBe('dev')
    expect(config.databaseUrl).toBeUndefined()
  })

  it('converts numbers, lists and flags', () => {
    const config = loadConfig({
      PORT: '9000',
      TRUSTED_PROXIES: ' 10.0.0.1 , 192.168.0.0/16,, ',
      SESSION_IDLE_TIMEOUT: '1.5',
      MIGRATE_ON_START: 'false',
      API_WEBSOCKET_TIMEOUT: '10',
    })
    expect(config.http.port).toBe(9000)
    expect(config.http.trustedProxies).toEqual(['10.0.0.1', '192.168.0.0/16'])
    expect(config.session.idleTimeoutMs).toBe(1500)
    expect(config.migrateOnStart).toBe(false)
    expect(config.websocket.heartbeatIntervalMs).toBe(10_000)
  })

  it.each([
    ['PORT', 'not a number', { PORT: 'abc' }],
    ['PORT', 'out of range', { PORT: '70000' }],
    ['API_MODE', 'not a mode', { API_MODE: 'staging' }],
    ['DATABASE_URL', 'of another scheme', { DATABASE_URL: 'mysql://root@db:3306/chat' }],
    ['REDIS_URL', 'of another scheme', { REDIS_URL: 'http://127.0.0.1:6379' }],
    ['LOG_LEVEL', 'not a level', { LOG_LEVEL: 'loud' }],
    ['API_ADMIN_EMAIL', 'not an email', { API_ADMIN_EMAIL: 'not-an-email' }],
    ['SESSION_IDLE_TIMEOUT', 'zero', { SESSION_IDLE_TIMEOUT: '0' }],
    ['SESSION_COOKIE_NAME', 'with a space', { SESSION_COOKIE_NAME: 'my session' }],
    ['SESSION_COOKIE_SECURE', 'not a flag', { SESSION_COOKIE_SECURE: 'yes' }],
    ['LOGIN_MAX_FAILURES_PER_ACCOUNT', 'zero', { LOGIN_MAX_FAILURES_PER_ACCOUNT: '0' }],
    ['MIGRATE_ON_START', 'not a flag', { MIGRATE_ON_START: '1' }],
  ])('refuses %s %s with a ConfigError naming it', (name, _, env) => {
    const error = configError(env)
    expect(error.name).toBe('ConfigError')
    expect(error.message).toContain(name)
  })

  it('names every bad variable in one error', () => {
    const { message } = configError({ PORT: 'abc', API_MODE: 'staging', LOG_LEVEL: 'loud' })
    for (const name of ['PORT', 'API_MODE', 'LOG_LEVEL']) expect(message).toContain(name)
  })

  it('shows the bad value of a variable that holds no secret', () => {
    expect(configError({ PORT: 'abc' }).message).toContain('"abc"')
  })

  it('refuses an admin email longer than the users.email column', () => {
    expect(configError({ API_ADMIN_EMAIL: `${'a'.repeat(60)}@example.com` }).message).toContain(
      'API_ADMIN_EMAIL',
    )
  })

  it('refuses an idle timeout longer than the absolute one, naming both', () => {
    const { message } = configError({ SESSION_IDLE_TIMEOUT: '7200', SESSION_ABSOLUTE_TIMEOUT: '3600' })
    expect(message).toContain('SESSION_IDLE_TIMEOUT')
    expect(message).toContain('SESSION_ABSOLUTE_TIMEOUT')
    expect(
      loadConfig({ SESSION_IDLE_TIMEOUT: '3600', SESSION_ABSOLUTE_TIMEOUT: '3600' }).session,
    ).toMatchObject({
      idleTimeoutMs: 3_600_000,
      absoluteTimeoutMs: 3_600_000,
    })
  })

  it.each([
    ['DATABASE_URL', 'mysql://app:db-secret-3f9a@db:3306/chat', 'db-secret-3f9a'],
    ['REDIS_URL', 'http://:redis-secret-77c1@cache:6379', 'redis-secret-77c1'],
    ['API_ADMIN_PASSWORD', 'pw-7c1x', 'pw-7c1x'],
  ])('never puts the secret of a bad %s in the message', (name, value, secret) => {
    const { message } = configError({ [name]: value })
    expect(message).toContain(name)
    expect(message).not.toContain(secret)
  })

  describe('in production', () => {
    it('refuses to start without an admin', () => {
      const { message } = configError({ API_MODE: 'production' })
      expect(message).toContain('API_ADMIN_EMAIL')
      expect(message).toContain('API_ADMIN_PASSWORD')
      expect(configError({ ...productionAdmin, API_ADMIN_PASSWORD: '' }).message).toContain(
        'API_ADMIN_PASSWORD',
      )
      expect(configError({ ...productionAdmin, API_ADMIN_EMAIL: '' }).message).toContain('API_ADMIN_EMAIL')
    })

    it('refuses the placeholder password of .env.example', () => {
      const { message } = configError({ ...productionAdmin, API_ADMIN_PASSWORD: PLACEHOLDER_ADMIN.password })
      expect(message).toContain('API_ADMIN_PASSWORD')
      expect(message).toContain('placeholder')
    })

    it('accepts a real admin, listens on every interface and sends the cookie over HTTPS only', () => {
      const config = loadConfig(productionAdmin)
      expect(config.mode).toBe('production')
      expect(config.admin).toEqual({ email: 'root@example.org', password: 'a-real-production-password' })
      expect(config.http.host).toBe('0.0.0.0')
      expect(config.session.cookieSecure).toBe(true)
    })

    it('names the Secure cookie with the __Host- prefix', () => {
      expect(loadConfig(productionAdmin).session.cookieName).toBe('__Host-session')
      expect(loadConfig({ ...productionAdmin, SESSION_COOKIE_NAME: 'sid' }).session.cookieName).toBe(
        '__Host-sid',
      )
    })

    it('lets SESSION_COOKIE_SECURE=false turn the Secure cookie off', () => {
      expect(loadConfig({ ...productionAdmin, SESSION_COOKIE_SECURE: 'false' }).session).toMatchObject({
        cookieSecure: false,
        cookieName: 'session',
      })
    })
  })

  describe('in dev', () => {
    it('accepts the placeholder admin and sends the cookie over plain HTTP', () => {
      const config = loadConfig({ API_MODE: 'dev' })
      expect(config.admin).toEqual(PLACEHOLDER_ADMIN)
      expect(config.session.cookieSecure).toBe(false)
    })

    it('lets SESSION_COOKIE_SECURE=true turn the Secure cookie on, named __Host-…', () => {
      expect(loadConfig({ SESSION_COOKIE_SECURE: 'true' }).session).toMatchObject({
        cookieSecure: true,
        cookieName: '__Host-session',
      })
    })
  })

  describe('choosing the database and session store', () => {
    it('embeds both when no database or Redis variable is set, even with other POSTGRES_* set', () => {
      for (const env of [{}, { POSTGRES_PORT: '5433', POSTGRES_USER: 'chat', POSTGRES_PASSWORD: 'x' }]) {
        const config = loadConfig(env)
        expect(config.databaseUrl).toBeUndefined()
        expect(config.redisUrl).toBeUndefined()
      }
    })

    it('uses DATABASE_URL (postgres:// or postgresql://) over the POSTGRES_* variables', () => {
      for (const url of ['postgres://app@db-one:5433/chat', 'postgresql://app@db-one:5433/chat']) {
        const config = loadConfig({
          DATABASE_URL: url,
          POSTGRES_HOST: 'db-two',
          POSTGRES_PORT: '5434',
          POSTGRES_DB: 'other',
          POSTGRES_USER: 'someone',
        })
        expect(config.databaseUrl).toBe(url)
      }
    })

    it('builds a URL from POSTGRES_HOST and the other POSTGRES_* variables', () => {
      const url = new URL(
        loadConfig({
          POSTGRES_HOST: 'db.internal',
          POSTGRES_PORT: '6543',
          POSTGRES_DB: 'chat',
          POSTGRES_USER: 'chat_user',
          POSTGRES_PASSWORD: 'plain',
        }).databaseUrl!,
      )
      expect(url.protocol).toBe('postgres:')
      expect(url.host).toBe('db.internal:6543')
      expect(url.username).toBe('chat_user')
      expect(url.password).toBe('plain')
      expect(url.pathname).toBe('/chat')
    })

    it('fills in the POSTGRES_* defaults around POSTGRES_HOST', () => {
      expect(loadConfig({ POSTGRES_HOST: 'db' }).databaseUrl).toBe('postgres://postgres@db:5432/postgres')
    })

    it('encodes a POSTGRES_PASSWORD with special characters so the URL still parses to it', () => {
      const password = 'p@ss:w/rd#?&= é'
      const databaseUrl = loadConfig({ POSTGRES_HOST: 'db', POSTGRES_PASSWORD: password }).databaseUrl!
      const url = new URL(databaseUrl)
      expect(url.host).toBe('db:5432')
      expect(url.username).toBe('postgres')
      expect(url.pathname).toBe('/postgres')
      expect(decodeURIComponent(url.password)).toBe(password)
      expect(databaseUrl).not.toContain(password)
    })

    it('keeps a % in the user, password and database name as it is', () => {
      const url = new URL(
        loadConfig({
          POSTGRES_HOST: 'db',
          POSTGRES_USER: 'u%41',
          POSTGRES_PASSWORD: 'p%41ss',
          POSTGRES_DB: 'd%b',
        }).databaseUrl!,
      )
      expect(decodeURIComponent(url.username)).toBe('u%41')
      expect(decodeURIComponent(url.password)).toBe('p%41ss')
      expect(decodeURIComponent(url.pathname)).toBe('/d%b')
    })

    it('brackets an IPv6 POSTGRES_HOST', () => {
      expect(loadConfig({ POSTGRES_HOST: '::1' }).databaseUrl).toBe('postgres://postgres@[::1]:5432/postgres')
      expect(loadConfig({ POSTGRES_HOST: '[::1]' }).databaseUrl).toBe(
        'postgres://postgres@[::1]:5432/postgres',
      )
    })

    it('uses REDIS_URL and the key prefix when set', () => {
      const config = loadConfig({ REDIS_URL: 'rediss://cache:6380', REDIS_KEY_PREFIX: 'other:' })
      expect(config.redisUrl).toBe('rediss://cache:6380')
      expect(config.redisKeyPrefix).toBe('other:')
    })

    it('takes REDIS_CLUSTER_NODES as a list of host:port, and refuses it beside REDIS_URL', () => {
      const config = loadConfig({ REDIS_CLUSTER_NODES: 'cache-1:7000, 10.0.0.2:7001' })
      expect(config.redisClusterNodes).toEqual([
        { host: 'cache-1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ])
      expect(config.redisUrl).toBeUndefined()
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'cache-1' })).toThrow(/REDIS_CLUSTER_NODES/)
      expect(() =>
        loadConfig({ REDIS_CLUSTER_NODES: 'cache-1:7000', REDIS_URL: 'redis://cache:6379' }),
      ).toThrow('set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a cluster), not both')
    })
  })

  describe('PGLITE_DATA_DIR', () => {
    it('resolves a relative directory against the repository root, not the working directory', () => {
      expect(existsSync(ENV_EXAMPLE)).toBe(true)
      expect(loadConfig({ PGLITE_DATA_DIR: 'var/pglite' }).pgliteDataDir).toBe(
        path.join(repositoryRoot, 'var', 'pglite'),
      )
      expect(loadConfig({ PGLITE_DATA_DIR: './x/../y' }).pgliteDataDir).toBe(path.join(repositoryRoot, 'y'))
    })

    it('keeps an absolute directory and memory:// as they are', () => {
      expect(loadConfig({ PGLITE_DATA_DIR: '/srv/pglite' }).pgliteDataDir).toBe('/srv/pglite')
      expect(loadConfig({ PGLITE_DATA_DIR: 'memory://' }).pgliteDataDir).toBe('memory://')
    })
  })
})

describe('.env.example', () => {
  it('documents every variable the server reads', () => {
    const documented = new Set(envExampleNames())
    const missing = Object.keys(EnvSchema.properties).filter((name) => !documented.has(name))
    expect(missing).toEqual([])
  })

  it('names no variable the server does not read, except those for docker compose', () => {
    const names = envExampleNames()
    // commented-out lines count: these are only in `# NAME=` form
    expect(names).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'POSTGRES_HOST', 'API_MODE']))
    const known = new Set([...Object.keys(EnvSchema.properties), ...COMPOSE_ONLY])
    expect(names.filter((name) => !known.has(name))).toEqual([])
  })

  it('loads as it is into a dev config on the embedded backends', () => {
    const config = loadConfig(parseEnv(readFileSync(ENV_EXAMPLE, 'utf8')))
    expect(config.mode).toBe('dev')
    expect(config.admin).toEqual(PLACEHOLDER_ADMIN)
    expect(config.databaseUrl).toBeUndefined()
    expect(config.redisUrl).toBeUndefined()
  })
})
