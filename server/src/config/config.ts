import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { EMAIL_MAX_LENGTH } from '@chat/contract'

/** The repository root: embedded data lives in `<root>/.data`, as the original's volumes did. */
export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

/** The placeholder of `.env.example`: fine for a laptop, refused in production. */
export const PLACEHOLDER_ADMIN = { email: 'admin@example.com', password: 'change-me-admin-password' }

const Seconds = (defaultValue: number, description: string) =>
  Type.Number({ exclusiveMinimum: 0, default: defaultValue, description })
const Count = (defaultValue: number, description: string) =>
  Type.Integer({ minimum: 1, default: defaultValue, description })
const Flag = (description: string, defaultValue?: 'true' | 'false') =>
  Type.Enum(['true', 'false'], { description, default: defaultValue })

/**
 * Every environment variable the server reads, the original's names first. `.env.example` documents the
 * same list; `config.test.ts` checks that the two agree.
 */
export const EnvSchema = Type.Object({
  API_MODE: Type.Enum(['dev', 'production'], {
    default: 'dev',
    description: 'dev: readable logs and placeholder admin allowed; production: JSON logs, secrets required',
  }),
  API_ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH })),
  API_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8 })),
  API_WEBSOCKET_TIMEOUT: Seconds(30, 'WebSocket heartbeat interval; a silent peer is dropped after two'),
  POSTGRES_HOST: Type.Optional(Type.String({ minLength: 1 })),
  POSTGRES_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 5432 }),
  POSTGRES_DB: Type.String({ minLength: 1, default: 'postgres' }),
  POSTGRES_USER: Type.String({ minLength: 1, default: 'postgres' }),
  POSTGRES_PASSWORD: Type.String({ default: '' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  PGLITE_DATA_DIR: Type.String({ minLength: 1, default: path.join(repositoryRoot, '.data', 'pglite') }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_CLUSTER_NODES: Type.Optional(
    Type.String({
      pattern: '^\\s*[^\\s,:]+:\\d{1,5}\\s*(,\\s*[^\\s,:]+:\\d{1,5}\\s*)*$',
      description: 'comma-separated host:port of some Redis Cluster nodes (instead of REDIS_URL)',
    }),
  ),
  REDIS_KEY_PREFIX: Type.String({ default: 'chat:' }),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8000 }),
  METRICS_PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      description: 'Prometheus metrics at GET /metrics on this port (never the public one); unset: none',
    }),
  ),
  METRICS_HOST: Type.Optional(Type.String({ minLength: 1, description: 'default: as HOST' })),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  TRUSTED_PROXIES: Type.String({
    default: '',
    description: 'comma-separated addresses or CIDR ranges whose X-Forwarded-For is believed',
  }),
  SESSION_IDLE_TIMEOUT: Seconds(30 * 60, 'a session unused this long ends'),
  SESSION_ABSOLUTE_TIMEOUT: Seconds(12 * 60 * 60, 'a session ends this long after login, used or not'),
  SESSION_COOKIE_NAME: Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'session' }),
  SESSION_COOKIE_SECURE: Type.Optional(Flag('send the cookie over HTTPS only; default: on in production')),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: Count(
    10,
    'failed logins for one email, within the window, from clients it never logged in from; then only those wait',
  ),
  LOGIN_MAX_FAILURES_PER_CLIENT: Count(
    5,
    'failed logins for one email within the window from one address, or from one browser it logged in from',
  ),
  LOGIN_MAX_FAILURES_PER_ADDRESS: Count(100, 'failed logins from one client address within the window'),
  LOGIN_FAILURE_WINDOW: Seconds(15 * 60, 'how long a failed login counts'),
  REGISTER_MAX_PER_ADDRESS: Count(10, 'accounts one client address may create within REGISTER_WINDOW'),
  REGISTER_WINDOW: Seconds(60 * 60, 'the window of REGISTER_MAX_PER_ADDRESS'),
  APP_ROLE: Type.Enum(['all', 'api', 'ws'], {
    default: 'all',
    description:
      'api: HTTP API only; ws: WebSocket server only; all: both in one process (the embedded default)',
  }),
  WS_ALLOWED_ORIGINS: Type.String({
    default: '',
    description:
      'comma-separated origins (scheme://host[:port]) whose pages may use the session cookie, besides the same origin: open /ws and make state-changing API requests',
  }),
  WS_MAX_MESSAGE_BYTES: Count(16 * 1024, 'a larger WebSocket message closes the connection with 1009'),
  WS_MESSAGES_PER_SECOND: Count(10, 'chat messages a connection may send per second (bursts of twice that)'),
  WS_MAX_CONNECTIONS_PER_USER: Count(20, 'open WebSockets one user may hold, across every ws process'),
  WS_SEND_BUFFER_LIMIT: Count(
    1024 * 1024,
    'bytes waiting for a client that has stopped reading before it is cut off',
  ),
  WS_SESSION_CHECK_INTERVAL: Seconds(
    5,
    'how often open sockets re-check (and refresh) their sessions, in one batch',
  ),
  CHAT_HISTORY_LIMIT: Count(50, 'messages sent on joining a room'),
  CHAT_MAX_BATCH: Count(
    256,
    'most messages of one room stored in one statement while its previous insert is in flight (group commit)',
  ),
  SHUTDOWN_DRAIN_SECONDS: Type.Number({
    minimum: 0,
    maximum: 60,
    default: 0,
    description:
      'on SIGTERM: answer not-ready and refuse new WebSockets this long before closing the open ones (1001)',
  }),
  MIGRATE_ON_START: Flag('apply pending migrations at start (under a lock)', 'true'),
  SMTP_URL: Type.Optional(
    Type.String({
      pattern: '^smtps?://',
      description:
        'where mail goes: smtp://user:password@host:587 (STARTTLS) or smtps://…:465; unset: mails are written to the log instead',
    }),
  ),
  EMAIL_VERIFICATION: Type.Optional(
    Type.Enum(['required', 'optional'], {
      description:
        'required: registration logs nobody in, and an account logs in once its address is confirmed (no account enumeration); optional: registration logs in at once, the address confirmed later. Default: required when SMTP_URL is set',
    }),
  ),
  MAIL_FROM: Type.String({
    minLength: 3,
    default: 'Chat <chat@localhost>',
    description: 'the From of every mail',
  }),
  PUBLIC_URL: Type.Optional(
    Type.String({
      pattern: '^https?://[^/]+$',
      description: 'the address people reach the app at, for links in mails (default: http://localhost:PORT)',
    }),
  ),
})

export type Env = Static<typeof EnvSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const splitList = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)

function databaseUrl(env: Env): string | undefined {
  if (env.DATABASE_URL) return env.DATABASE_URL
  if (!env.POSTGRES_HOST) return undefined
  // Each part percent-encoded by hand: the URL setters leave `%` alone, so `p%41ss` would arrive as `pAss`.
  const host =
    env.POSTGRES_HOST.includes(':') && !env.POSTGRES_HOST.startsWith('[')
      ? `[${env.POSTGRES_HOST}]`
      : env.POSTGRES_HOST
  const user = encodeURIComponent(env.POSTGRES_USER)
  const password = env.POSTGRES_PASSWORD ? `:${encodeURIComponent(env.POSTGRES_PASSWORD)}` : ''
  return `postgres://${user}${password}@${host}:${env.POSTGRES_PORT}/${encodeURIComponent(env.POSTGRES_DB)}`
}

/** The startup nodes of a Redis Cluster: any few of its nodes, the client finds the rest. */
function redisClusterNodes(env: Env): { host: string; port: number }[] | undefined {
  if (!env.REDIS_CLUSTER_NODES) return undefined
  if (env.REDIS_URL)
    throw new ConfigError('set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a cluster), not both')
  return splitList(env.REDIS_CLUSTER_NODES).map((node) => {
    const colon = node.lastIndexOf(':')
    const port = Number(node.slice(colon + 1))
    if (port < 1 || port > 65535) throw new ConfigError(`REDIS_CLUSTER_NODES: ${node} has no valid port`)
    return { host: node.slice(0, colon), port }
  })
}

function admin(env: Env) {
  const production = env.API_MODE === 'production'
  const email = env.API_ADMIN_EMAIL ?? (production ? undefined : PLACEHOLDER_ADMIN.email)
  const password = env.API_ADMIN_PASSWORD ?? (production ? undefined : PLACEHOLDER_ADMIN.password)
  if (!email || !password) {
    throw new ConfigError('API_ADMIN_EMAIL and API_ADMIN_PASSWORD are required when API_MODE=production')
  }
  if (production && password === PLACEHOLDER_ADMIN.password) {
    throw new ConfigError(
      'API_ADMIN_PASSWORD is the placeholder from .env.example; set a real one for production',
    )
  }
  return { email, password }
}

/** One line per bad variable, its value shown unless it may hold a secret. */
function describeErrors(env: Record<string, unknown>): string {
  const byName = new Map<string, string>()
  for (const error of Value.Errors(EnvSchema, env)) {
    const name = error.instancePath.replace(/^\//, '')
    if (byName.has(name)) continue
    const secret = name.includes('PASSWORD') || name.endsWith('_URL')
    const allowed = 'allowedValues' in error.params ? ` ${JSON.stringify(error.params.allowedValues)}` : ''
    byName.set(
      name,
      `${name} ${error.message}${allowed} (got ${secret ? 'a hidden value' : JSON.stringify(env[name])})`,
    )
  }
  return [...byName.values()].join('; ')
}

/** Parse and check the environment once, at start. Throws a ConfigError naming each bad variable. */
export function loadConfig(source: Record<string, string | undefined>) {
  const known = Object.keys(EnvSchema.properties)
  const env: Record<string, unknown> = Object.fromEntries(
    known
      .filter((name) => source[name] !== undefined && source[name] !== '')
      .map((name) => [name, source[name]]),
  )
  const converted = Value.Convert(EnvSchema, Value.Default(EnvSchema, env))
  if (!Value.Check(EnvSchema, converted)) {
    throw new ConfigError(`invalid configuration: ${describeErrors(converted as Record<string, unknown>)}`)
  }
  return fromEnv(converted)
}

/** ASVS 3.3.1: a Secure cookie carries the __Host- prefix, so the browser keeps it to this host, path /, HTTPS. */
function sessionCookie(name: string, secure: boolean) {
  return { cookieName: secure ? `__Host-${name}` : name, cookieSecure: secure }
}

function fromEnv(env: Env) {
  const production = env.API_MODE === 'production'
  const idleSeconds = env.SESSION_IDLE_TIMEOUT
  const absoluteSeconds = env.SESSION_ABSOLUTE_TIMEOUT
  if (idleSeconds > absoluteSeconds) {
    throw new ConfigError('SESSION_IDLE_TIMEOUT must not be longer than SESSION_ABSOLUTE_TIMEOUT')
  }
  return {
    mode: env.API_MODE,
    http: {
      host: env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
      port: env.PORT,
      trustedProxies: splitList(env.TRUSTED_PROXIES),
    },
    metrics: {
      port: env.METRICS_PORT,
      host: env.METRICS_HOST ?? env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    },
    logLevel: env.LOG_LEVEL,
    admin: admin(env),
    /** undefined: embedded PGlite in `pgliteDataDir` */
    databaseUrl: databaseUrl(env),
    pgliteDataDir: env.PGLITE_DATA_DIR.startsWith('memory://')
      ? env.PGLITE_DATA_DIR
      : path.resolve(repositoryRoot, env.PGLITE_DATA_DIR),
    migrateOnStart: env.MIGRATE_ON_START === 'true',
    shutdownDrainMs: Math.round(env.SHUTDOWN_DRAIN_SECONDS * 1000),
    /** undefined (and no cluster): sessions and limits kept in this process */
    redisUrl: env.REDIS_URL,
    /** a Redis Cluster instead of one Redis: room channels on sharded pub/sub */
    redisClusterNodes: redisClusterNodes(env),
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    session: {
      idleTimeoutMs: Math.round(idleSeconds * 1000),
      absoluteTimeoutMs: Math.round(absoluteSeconds * 1000),
      ...sessionCookie(
        env.SESSION_COOKIE_NAME,
        env.SESSION_COOKIE_SECURE ? env.SESSION_COOKIE_SECURE === 'true' : production,
      ),
    },
    loginLimits: {
      maxFailuresPerAccount: env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerClient: env.LOGIN_MAX_FAILURES_PER_CLIENT,
      maxFailuresPerAddress: env.LOGIN_MAX_FAILURES_PER_ADDRESS,
      windowSeconds: env.LOGIN_FAILURE_WINDOW,
    },
    registrationLimits: {
      maxPerAddress: env.REGISTER_MAX_PER_ADDRESS,
      windowSeconds: env.REGISTER_WINDOW,
    },
    mail: {
      smtpUrl: env.SMTP_URL,
      verification: env.EMAIL_VERIFICATION ?? (env.SMTP_URL ? 'required' : 'optional'),
      from: env.MAIL_FROM,
      publicUrl: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
    },
    role: env.APP_ROLE,
    websocket: {
      heartbeatIntervalMs: Math.round(env.API_WEBSOCKET_TIMEOUT * 1000),
      allowedOrigins: splitList(env.WS_ALLOWED_ORIGINS),
      maxMessageBytes: env.WS_MAX_MESSAGE_BYTES,
      maxConnectionsPerUser: env.WS_MAX_CONNECTIONS_PER_USER,
      sendBufferLimit: env.WS_SEND_BUFFER_LIMIT,
      sessionCheckIntervalMs: Math.round(env.WS_SESSION_CHECK_INTERVAL * 1000),
    },
    chat: {
      historyLimit: env.CHAT_HISTORY_LIMIT,
      maxBatch: env.CHAT_MAX_BATCH,
      messagesPerSecond: env.WS_MESSAGES_PER_SECOND,
      presenceIntervalMs: Math.round(env.API_WEBSOCKET_TIMEOUT * 1000),
    },
  }
}

export type Config = ReturnType<typeof fromEnv>
