import { randomUUID } from 'node:crypto'
import cookie from '@fastify/cookie'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Ajv } from 'ajv'
import Fastify from 'fastify'
import type { DestinationStream } from 'pino'
import { EMAIL_PATTERN, GreetingSchema } from '@chat/contract'
import accountRoutes from './accounts/account-routes.ts'
import adminRoutes from './admin/admin-routes.ts'
import authPlugin from './auth/auth-plugin.ts'
import authRoutes from './auth/auth-routes.ts'
import chatPlugin from './chat/chat-plugin.ts'
import type { Config } from './config/config.ts'
import databasePlugin from './db/database-plugin.ts'
import mailPlugin from './mail/mail-plugin.ts'
import crossSiteGuard from './http/cross-site-guard.ts'
import errorHandler from './http/error-handler.ts'
import healthRoutes from './http/health-routes.ts'
import { loggerOptions } from './http/logging.ts'
import lifecyclePlugin from './lifecycle/lifecycle-plugin.ts'
import metricsPlugin from './metrics/metrics-plugin.ts'
import spaPlugin from './http/spa-plugin.ts'
import twoFactorRoutes from './two-factor/two-factor-routes.ts'
import redisPlugin from './redis/redis-plugin.ts'
import searchRoutes from './search/search-routes.ts'
import sessionsPlugin from './sessions/sessions-plugin.ts'
import adminSeedPlugin from './users/admin-seed-plugin.ts'
import websocketServer from './ws/ws-plugin.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** this process's id: on every log line, and the `server` of the chat's `welcome` */
    instanceId: string
  }
}

export interface BuildOptions {
  /** where log lines go instead of stdout (tests read them) */
  logStream?: DestinationStream
}

/** The one factory: `main.ts` and every test build the app here, so they run the same thing. */
export async function buildApp(config: Config, options: BuildOptions = {}) {
  const instanceId = randomUUID()
  const app = Fastify({
    logger: loggerOptions(config, instanceId, options.logStream),
    // Only a configured proxy may say who the client is; otherwise X-Forwarded-For is ignored.
    trustProxy: config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false,
    requestIdHeader: 'x-request-id',
    bodyLimit: 64 * 1024,
    ajv: {
      // marshmallow reported every bad field, not the first; a null stays null, never coerced to "".
      customOptions: { allErrors: true, coerceTypes: false },
      plugins: [(ajv: Ajv) => ajv.addFormat('email', EMAIL_PATTERN)],
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('instanceId', instanceId)

  // Every body this API takes is JSON; anything else is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain')

  // Infrastructure first, then the app's services, then routes.
  await app.register(errorHandler)
  await app.register(metricsPlugin, { config })
  await app.register(lifecyclePlugin)
  await app.register(cookie)
  await app.register(crossSiteGuard, { allowedOrigins: config.websocket.allowedOrigins })
  await app.register(databasePlugin, { config })
  await app.register(redisPlugin, { config })
  await app.register(sessionsPlugin, { config })
  await app.register(mailPlugin, { config })
  await app.register(authPlugin, { config })
  const servesApi = config.role !== 'ws'
  if (servesApi) await app.register(adminSeedPlugin, { config })
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Chat API',
        version: '1.0.0',
        description: 'The original /api contract and what grew around it.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  })
  await app.register(swaggerUi, { routePrefix: '/api/docs' })

  await app.register(
    async (api) => {
      api.get(
        '/',
        { schema: { summary: 'The original greeting', response: { 200: GreetingSchema } } },
        async () => ({ hello: 'world' as const }),
      )
      await api.register(healthRoutes)
      if (servesApi) {
        await api.register(
          async (v1) => {
            // answers here carry tokens, secrets and account data: no cache, shared or private, may keep
            // them (ASVS 5.0 V14.3.2)
            v1.addHook('onRequest', async (_request, reply) => {
              reply.header('cache-control', 'no-store')
            })
            await v1.register(authRoutes, { prefix: '/user', config })
            await v1.register(accountRoutes, { prefix: '/user', config })
            await v1.register(twoFactorRoutes, { prefix: '/user/2fa' })
            await v1.register(adminRoutes, { prefix: '/admin' })
            await v1.register(searchRoutes, { prefix: '/search', config })
          },
          { prefix: '/v1.0' },
        )
      }
    },
    { prefix: '/api' },
  )
  if (config.role !== 'api') {
    await app.register(chatPlugin, { config })
    await app.register(websocketServer, { config })
  }
  if (servesApi) await app.register(spaPlugin, {})
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
