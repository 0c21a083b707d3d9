import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { Config } from '../config/config.ts'
import { LocalBus, type Bus } from '../bus/bus.ts'
import { RedisBus } from '../bus/redis-bus.ts'
import { redisStartupError } from '../startup/startup-error.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** undefined in the embedded default: sessions and limits then live in this process */
    redis: Redis | undefined
    /** pub/sub between processes (within this one in the embedded default) */
    bus: Bus
  }
}

export function createRedis(url: string): Redis {
  // Fail commands fast while disconnected instead of queueing them: a login should answer 503, not hang.
  // A Redis that stops answering without closing fails each command after 2 s instead of hanging it.
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    commandTimeout: 2_000,
  })
}

export default fp(
  async (app, { config }: { config: Config }) => {
    if (!config.redisUrl) {
      app.decorate('redis', undefined)
      app.decorate('bus', new LocalBus(app.metrics.busLag))
      app.log.info('sessions: in the database; pub/sub: in this process (no REDIS_URL)')
      return
    }
    const redis = createRedis(config.redisUrl)
    // Until the first connection, an error is the reason start-up fails (one line, from main.ts);
    // after it, a lost connection is logged and ioredis reconnects.
    let firstError: unknown
    const onStartError = (error: unknown) => (firstError ??= error)
    redis.on('error', onStartError)
    try {
      await redis.connect()
    } catch (error) {
      redis.disconnect()
      throw redisStartupError(firstError ?? error, config.redisUrl)
    }
    redis.off('error', onStartError)
    redis.on('error', (error) => {
      app.metrics.redisErrors.inc({ connection: 'command' })
      app.log.warn({ err: error }, 'redis connection error')
    })
    const bus = new RedisBus(redis, config.redisUrl, app.log, app.metrics)
    await bus.connect()
    app.decorate('redis', redis)
    app.decorate('bus', bus)
    app.addHook('onClose', async () => {
      await bus.close()
      // a Redis already gone cannot take QUIT: the connection is dropped instead, nothing is lost
      await redis.quit().catch((error: unknown) => {
        app.log.debug({ err: error }, 'redis QUIT failed at shutdown; disconnecting')
        redis.disconnect()
      })
    })
    const url = new URL(config.redisUrl)
    app.log.info(
      `sessions: Redis at ${url.hostname}:${url.port || 6379}, key prefix "${config.redisKeyPrefix}"`,
    )
  },
  { name: 'redis', dependencies: ['metrics'] },
)
