import type { RedisClient } from '../redis/redis-plugin.ts'
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible'

/** Where counters live: Redis when there is one (shared by every process, atomic), else this process. */
export type LimiterStore = { redis: RedisClient; keyPrefix: string } | undefined

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

/** Settles the consumptions; the longest wait any of them asks for, in whole seconds (0: all allowed). */
export async function secondsToWait(consumptions: Promise<unknown>[]): Promise<number> {
  let waitMs = 0
  for (const result of await Promise.allSettled(consumptions)) {
    if (result.status === 'fulfilled') continue
    if (!(result.reason instanceof RateLimiterRes)) throw result.reason
    waitMs = Math.max(waitMs, result.reason.msBeforeNext)
  }
  return Math.ceil(waitMs / 1000)
}
