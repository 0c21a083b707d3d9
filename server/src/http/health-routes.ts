import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { pingDatabase } from '../db/database.ts'

const CHECK_TIMEOUT_MS = 2_000

const Status = Type.Enum(['ok', 'unavailable'])
const HealthSchema = Type.Object({
  valid: Type.Boolean(),
  data: Type.Object({ database: Status, sessions: Status }),
})

async function check(probe: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS)
  })
  try {
    await Promise.race([probe(), timeout])
    return 'ok'
  } catch {
    return 'unavailable'
  } finally {
    clearTimeout(timer)
  }
}

/** `GET /api/health`: 200 when PostgreSQL and the session store answer, 503 (for load balancers) when not. */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Readiness: database and session store',
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_request, reply) => {
      const redis = app.redis
      const [database, sessions] = await Promise.all([
        check(() => pingDatabase(app.db)),
        redis ? check(() => redis.ping()) : ('ok' as const),
      ])
      const valid = database === 'ok' && sessions === 'ok'
      return reply.code(valid ? 200 : 503).send({ valid, data: { database, sessions } })
    },
  )
}

export default healthRoutes
