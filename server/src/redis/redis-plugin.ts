import fp from 'fastify-plugin'
import { Cluster, Redis } from 'ioredis'
import type { Config } from '../config/config.ts'
import { LocalBus, type Bus } from '../bus/bus.ts'
import { RedisBus } from '../bus/redis-bus.ts'
import { hostOf, redisStartupError } from '../startup/startup-error.ts'

/**
 * One Redis or a Redis Cluster: the stores send single-key commands, or scripts whose keys share a slot,
 * so each works on either.
 */
export type RedisClient = Redis | Cluster

declare module 'fastify' {
  interface FastifyInstance {
    /** undefined in the embedded default: sessions and limits then live in this process */
    redis: RedisClient | undefined
    /** pub/sub between processes (within this one in the embedded default) */
    bus: Bus
  }
}

// Fail commands fast while disconnected instead of queueing them: a login should answer 503, not hang.
// A Redis that stops answering without closing fails each command after 2 s instead of hanging it.
const FAIL_FAST = { maxRetriesPerRequest: 1, commandTimeout: 2_000 }

const CONNECTION_WARNING_INTERVAL_MS = 10_000

export function createRedis(url: string): Redis {
  return new Redis(url, { ...FAIL_FAST, enableOfflineQueue: false, lazyConnect: true })
}

export function createRedisCluster(nodes: { host: string; port: number }[]): Cluster {
  return new Cluster(nodes, {
    enableOfflineQueue: false,
    lazyConnect: true,
    // one subscriber connection per master, for SSUBSCRIBE (see RedisBus.onCluster)
    shardedSubscribers: true,
    redisOptions: FAIL_FAST,
  })
}

export default fp(
  async (app, { config }: { config: Config }) => {
    const { redisUrl, redisClusterNodes } = config
    if (!redisUrl && !redisClusterNodes) {
      app.decorate('redis', undefined)
      app.decorate('bus', new LocalBus(app.metrics.busLag))
      app.log.info('sessions: in the database; pub/sub: in this process (no REDIS_URL)')
      return
    }
    const where = redisUrl
      ? hostOf(redisUrl, 6379)
      : redisClusterNodes!.map((node) => `${node.host}:${node.port}`).join(',')
    const redis = redisUrl ? createRedis(redisUrl) : createRedisCluster(redisClusterNodes!)
    const bus =
      redis instanceof Redis
        ? RedisBus.onOneRedis(redis, redisUrl!, app.log, app.metrics)
        : RedisBus.onCluster(redis, app.log, app.metrics)
    // Until the first connection, an error is the reason start-up fails (one line, from main.ts);
    // after it, a lost connection is logged and ioredis reconnects.
    let firstError: unknown
    const onStartError = (error: unknown) => (firstError ??= error)
    redis.on('error', onStartError)
    try {
      await redis.connect()
      await bus.connect()
    } catch (error) {
      redis.disconnect()
      await bus.close()
      throw redisStartupError(firstError ?? error, where, !redisUrl)
    }
    redis.off('error', onStartError)
    // A cluster client reports every failed attempt to reach a master that is down, many a second: one
    // warning per interval says so, the rest go to debug (the metric counts them all).
    let warnedAt = -Infinity
    redis.on('error', (error) => {
      app.metrics.redisErrors.inc({ connection: 'command' })
      const now = performance.now()
      if (now - warnedAt < CONNECTION_WARNING_INTERVAL_MS)
        return app.log.debug({ err: error }, 'redis connection error')
      warnedAt = now
      app.log.warn({ err: error }, 'redis connection error')
    })
    app.decorate<RedisClient>('redis', redis)
    app.decorate('bus', bus)
    app.addHook('onClose', async () => {
      await bus.close()
      // a Redis already gone cannot take QUIT: the connection is dropped instead, nothing is lost
      await redis.quit().catch((error: unknown) => {
        app.log.debug({ err: error }, 'redis QUIT failed at shutdown; disconnecting')
        redis.disconnect()
      })
    })
    app.log.info(
      `sessions: ${redisUrl ? 'Redis' : 'Redis Cluster'} at ${where}, key prefix "${config.redisKeyPrefix}"` +
        (redisUrl ? '' : '; room channels on sharded pub/sub'),
    )
  },
  { name: 'redis', dependencies: ['metrics'] },
)
