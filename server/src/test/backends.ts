import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import pg from 'pg'
import { loadConfig, type Config } from '../config/config.ts'
import { testPgliteDir } from './pglite-template.ts'

/** The PostgreSQL and Redis that tests may create databases and keys in (CI's local services by default). */
export const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export const uniqueName = (prefix: string) =>
  `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`

async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** A new, empty database for one test file; `drop()` removes it even with connections left open. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = uniqueName('test')
  await withAdminClient((client) => client.query(`create database "${name}"`))
  const url = new URL(TEST_POSTGRES_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: () =>
      withAdminClient((client) => client.query(`drop database if exists "${name}" with (force)`)).then(
        () => {},
      ),
  }
}

/** A key prefix of its own; `drop()` deletes every key under it. */
export function createTestRedisPrefix(): { prefix: string; drop: () => Promise<void> } {
  const prefix = `${uniqueName('test')}:`
  return {
    prefix,
    drop: async () => {
      const redis = new Redis(TEST_REDIS_URL)
      try {
        for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) {
          if ((keys as string[]).length > 0) await redis.del(...(keys as string[]))
        }
      } finally {
        redis.disconnect()
      }
    },
  }
}

export interface TestBackend {
  name: string
  /** a config for this backend (with the given variables on top) and a cleanup that removes what it made */
  setup(env?: Record<string, string>): Promise<{ config: Config; cleanup: () => Promise<void> }>
}

const baseEnv = (): Record<string, string> => ({
  LOG_LEVEL: 'silent',
  API_ADMIN_EMAIL: `${uniqueName('admin')}@example.com`,
  API_ADMIN_PASSWORD: 'admin-password-for-tests',
  // every test user registers from 127.0.0.1; the tests of the limit set their own
  REGISTER_MAX_PER_ADDRESS: '100000',
})

export const realBackend: TestBackend = {
  name: 'PostgreSQL + Redis',
  async setup(env = {}) {
    const database = await createTestDatabase()
    const redis = createTestRedisPrefix()
    const config = loadConfig({
      ...baseEnv(),
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redis.prefix,
      ...env,
    })
    return { config, cleanup: async () => void (await Promise.all([database.drop(), redis.drop()])) }
  },
}

export const embeddedBackend: TestBackend = {
  name: 'embedded (PGlite, no Redis)',
  async setup(env = {}) {
    const pglite = testPgliteDir()
    const config = loadConfig({ ...baseEnv(), PGLITE_DATA_DIR: pglite.dataDir, ...env })
    return { config, cleanup: async () => pglite.drop() }
  },
}

export const backends = [realBackend, embeddedBackend]

/**
 * The variables of a production-like server process on a PostgreSQL database and a Redis prefix of its
 * own (for tests that run real processes), and the cleanup that removes both.
 */
export async function productionLikeEnv(extra: Record<string, string> = {}): Promise<{
  env: Record<string, string>
  admin: { email: string; password: string }
  cleanup: () => Promise<void>
  /** deletes what the server keeps in Redis, sessions included: every session ends at once */
  forgetRedisState: () => Promise<void>
}> {
  const database = await createTestDatabase()
  const redis = createTestRedisPrefix()
  const admin = { email: 'admin@example.com', password: 'test-admin-password' }
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redis.prefix,
    API_MODE: 'production',
    API_ADMIN_EMAIL: admin.email,
    API_ADMIN_PASSWORD: admin.password,
    SESSION_COOKIE_SECURE: 'false',
    LOG_LEVEL: 'warn',
    REGISTER_MAX_PER_ADDRESS: '100000',
    ...extra,
  }
  // a cluster instead of the test Redis: the two are exclusive
  if (extra.REDIS_CLUSTER_NODES) delete (env as Partial<typeof env>).REDIS_URL
  return {
    env,
    admin,
    cleanup: () => Promise.all([database.drop(), redis.drop()]).then(() => {}),
    forgetRedisState: redis.drop,
  }
}
