import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible'

/** Where counters live: Redis when there is one (shared by every process, atomic), else this process. */
export type LimiterStore = { redis: Redis; keyPrefix: string } | undefined

/** A rate-limiter-flexible counter of `points` per `seconds`, named under the store's key prefix. */
export function createLimiter(
  store: LimiterStore,
  name: string,
  points: number,
  seconds: number,
): RateLimiterAbstract {
  const options = { points, duration: seconds, keyPrefix: `${store?.keyPrefix ?? ''}${name}` }
  return store
    ? new RateLimiterRedis({ ...options, storeClient: store.redis })
    : new RateLimiterMemory(options)
}
