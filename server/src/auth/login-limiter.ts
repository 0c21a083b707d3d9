import type { Redis } from 'ioredis'
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible'

export interface LoginLimits {
  maxFailuresPerAccount: number
  maxFailuresPerAddress: number
  windowSeconds: number
}

/**
 * Counts login attempts per account and per client address (OWASP Authentication Cheat Sheet: throttle,
 * never lock out for good). Each attempt takes a point before the password is checked, so parallel
 * guesses cannot slip past the count; a success hands its points back. Counters expire with the window,
 * so the real user is at most delayed, and they live in Redis when there is one, shared by all processes.
 */
export class LoginLimiter {
  private readonly byAccount: RateLimiterAbstract
  private readonly byAddress: RateLimiterAbstract

  constructor(limits: LoginLimits, store: { redis: Redis; keyPrefix: string } | undefined) {
    const limiter = (name: string, points: number) => {
      const options = {
        points,
        duration: limits.windowSeconds,
        keyPrefix: `${store?.keyPrefix ?? ''}login-${name}`,
      }
      return store
        ? new RateLimiterRedis({ ...options, storeClient: store.redis })
        : new RateLimiterMemory(options)
    }
    this.byAccount = limiter('account', limits.maxFailuresPerAccount)
    this.byAddress = limiter('address', limits.maxFailuresPerAddress)
  }

  /** Takes one attempt; returns how many seconds to wait when the attempt is over a limit, else 0. */
  async attempt(email: string, address: string): Promise<number> {
    const results = await Promise.allSettled([
      this.byAccount.consume(email.toLowerCase()),
      this.byAddress.consume(address),
    ])
    let waitMs = 0
    for (const result of results) {
      if (result.status === 'fulfilled') continue
      if (!(result.reason instanceof RateLimiterRes)) throw result.reason
      waitMs = Math.max(waitMs, result.reason.msBeforeNext)
    }
    return Math.ceil(waitMs / 1000)
  }

  /** The right password clears the account's count and gives the address its attempt back. */
  async succeeded(email: string, address: string): Promise<void> {
    await Promise.all([this.byAccount.delete(email.toLowerCase()), this.byAddress.reward(address, 1)])
  }
}
