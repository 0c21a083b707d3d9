import type { FastifyBaseLogger } from 'fastify'
import type { RedisClient } from '../redis/redis-plugin.ts'

/**
 * How many WebSockets one user holds, across every ws process: an upgrade takes a slot before it opens
 * and gives it back when its connection closes, so parallel upgrades cannot overshoot the cap
 * (ASVS 5.0 V2.4.1: limits against automated abuse hold under concurrency).
 */
export interface ConnectionSlots {
  /** Takes one of the user's `cap` slots for `connectionId`; false when all are taken. */
  take(userId: string, connectionId: string): Promise<boolean>
  release(userId: string, connectionId: string): void
  close(): void
}

/** One process (the embedded default): a count in memory, taken and checked in one synchronous step. */
export class LocalConnectionSlots implements ConnectionSlots {
  private readonly held = new Map<string, Set<string>>()

  constructor(private readonly cap: number) {}

  async take(userId: string, connectionId: string): Promise<boolean> {
    const slots = this.held.get(userId) ?? new Set<string>()
    if (slots.size >= this.cap) return false
    slots.add(connectionId)
    this.held.set(userId, slots)
    return true
  }

  release(userId: string, connectionId: string): void {
    const slots = this.held.get(userId)
    if (slots?.delete(connectionId) && slots.size === 0) this.held.delete(userId)
  }

  close(): void {}
}

// KEYS[1]: the user's sorted set of connection ids, scored by when each lapses unless renewed.
// ARGV: now (ms), lapse time (ms), cap, connection id, key TTL (ms).
const TAKE = `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`

/**
 * Every ws process on one Redis: a sorted set per user, one member per open connection. Each process
 * renews its own members every `renewIntervalMs`; a process that dies stops renewing, and its members
 * lapse after three intervals, so a crash does not hold a user's slots for ever.
 */
export class RedisConnectionSlots implements ConnectionSlots {
  private readonly held = new Map<string, Set<string>>()
  private readonly renewer: NodeJS.Timeout
  private readonly lapseMs: number

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly cap: number,
    renewIntervalMs: number,
    private readonly log: FastifyBaseLogger,
  ) {
    this.lapseMs = renewIntervalMs * 3
    this.renewer = setInterval(() => this.renew(), renewIntervalMs)
    this.renewer.unref()
  }

  private key = (userId: string) => `${this.prefix}ws-connections:${userId}`

  async take(userId: string, connectionId: string): Promise<boolean> {
    const now = Date.now()
    const taken = await this.redis.eval(
      TAKE,
      1,
      this.key(userId),
      now,
      now + this.lapseMs,
      this.cap,
      connectionId,
      this.lapseMs,
    )
    if (taken !== 1) return false
    const slots = this.held.get(userId) ?? new Set<string>()
    slots.add(connectionId)
    this.held.set(userId, slots)
    return true
  }

  release(userId: string, connectionId: string): void {
    const slots = this.held.get(userId)
    if (!slots?.delete(connectionId)) return
    if (slots.size === 0) this.held.delete(userId)
    // if Redis is out of reach, the slot lapses on its own once this process stops renewing it
    this.redis.zrem(this.key(userId), connectionId).catch((error: unknown) => {
      this.log.warn({ err: error, userId }, 'releasing a WebSocket slot failed; it will lapse')
    })
  }

  close(): void {
    clearInterval(this.renewer)
  }

  private renew(): void {
    const lapsesAt = Date.now() + this.lapseMs
    for (const [userId, slots] of this.held) {
      const key = this.key(userId)
      const members = [...slots].flatMap((connectionId) => [lapsesAt, connectionId])
      // plain ZADD: a slot that lapsed while Redis was out of reach counts again. One key per command,
      // so this stays valid on a Redis Cluster.
      Promise.all([this.redis.zadd(key, ...members), this.redis.pexpire(key, this.lapseMs)]).catch(
        (error: unknown) => this.log.warn({ err: error, userId }, 'renewing WebSocket slots failed'),
      )
    }
  }
}
