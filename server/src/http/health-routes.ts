import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type TSchema } from 'typebox'
import { pingDatabase } from '../db/database.ts'
import { pendingMigrations } from '../db/migrator.ts'

const CHECK_TIMEOUT_MS = 2_000

const Status = Type.Enum(['ok', 'unavailable'])
const HealthSchema = Type.Object({
  valid: Type.Boolean(),
  data: Type.Object({ database: Status, sessions: Status }),
})
const LiveSchema = Type.Object({ valid: Type.Literal(true), data: Type.Object({ live: Type.Literal(true) }) })
const ReadySchema = Type.Object({
  valid: Type.Boolean(),
  data: Type.Object({
    database: Status,
    sessions: Status,
    migrations: Type.Enum(['ok', 'pending', 'unavailable']),
    shutdown: Type.Enum(['running', 'draining']),
  }),
})

/**
 * `/api/health` (PostgreSQL and the session store), `/api/health/live` (the process answers: restart it
 * when not) and `/api/health/ready` (it can serve: send it traffic when so). 503 is what load balancers,
 * compose healthchecks and nginx's retries read.
 */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  async function check<T extends string>(
    what: string,
    probe: () => Promise<T | void>,
    ok: T,
  ): Promise<T | 'unavailable'> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)
    })
    try {
      return (await Promise.race([probe(), timeout])) || ok
    } catch (error) {
      // the answer says which part is down; the log says why
      app.log.warn({ err: error, check: what }, 'health check failed')
      return 'unavailable'
    } finally {
      clearTimeout(timer)
    }
  }

  const backends = () => {
    const redis = app.redis
    return Promise.all([
      check('database', () => pingDatabase(app.db), 'ok'),
      redis ? check('sessions', () => redis.ping().then(() => {}), 'ok') : ('ok' as const),
    ])
  }

  /** A probe route: 200 when every check is ok, 503 (what load balancers read) with the same body when not. */
  function probe<Data extends Record<string, string>>(
    url: string,
    summary: string,
    schema: TSchema,
    checks: () => Promise<Data>,
    healthy: (data: Data) => boolean,
  ) {
    app.get(url, { schema: { summary, response: { 200: schema, 503: schema } } }, async (_request, reply) => {
      const data = await checks()
      const valid = healthy(data)
      return reply.code(valid ? 200 : 503).send({ valid, data })
    })
  }

  const allOk = (data: Record<string, string>) => Object.values(data).every((status) => status === 'ok')

  probe(
    '/health',
    'Database and session store',
    HealthSchema,
    async () => {
      const [database, sessions] = await backends()
      return { database, sessions }
    },
    allOk,
  )

  app.get(
    '/health/live',
    { schema: { summary: 'Liveness: the process answers', response: { 200: LiveSchema } } },
    async () => ({ valid: true as const, data: { live: true as const } }),
  )

  probe(
    '/health/ready',
    'Readiness: database, session store, migrations applied, not shutting down',
    ReadySchema,
    async () => {
      const [[database, sessions], migrations] = await Promise.all([
        backends(),
        check<'ok' | 'pending'>(
          'migrations',
          async () => ((await pendingMigrations(app.db)).length > 0 ? 'pending' : undefined),
          'ok',
        ),
      ])
      const shutdown = app.lifecycle.draining ? 'draining' : 'running'
      return { database, sessions, migrations, shutdown }
    },
    ({ shutdown, ...checked }) => shutdown === 'running' && allOk(checked),
  )
}

export default healthRoutes
