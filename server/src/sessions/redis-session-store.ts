import type { Redis } from 'ioredis'
import {
  newToken,
  SESSION_EVENTS_CHANNEL,
  tokenHash,
  type Session,
  type SessionLifetimes,
  type SessionStore,
  type SessionUser,
} from './session-store.ts'

// Each script is one round trip and reads Redis's own clock, so processes whose clocks differ agree on expiry.
// Keys: session:<hash> -> {"user":…,"expiresAt":ms}, TTL = min(idle, time left); user-sessions:<id> -> set of hashes.
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

const CREATE = `${NOW}
local expiresAt = now + tonumber(ARGV[3])
redis.call('SET', KEYS[1], '{"user":' .. ARGV[1] .. ',"expiresAt":' .. string.format('%d', expiresAt) .. '}', 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end`

const TOUCH = `${NOW}
local value = redis.call('GET', KEYS[1])
if not value then return nil end
local left = cjson.decode(value).expiresAt - now
if left <= 0 then redis.call('DEL', KEYS[1]) return nil end
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[1]), left))
return value`

const REVOKE = `local value = redis.call('GET', KEYS[1])
if not value then return nil end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2] .. cjson.decode(value).user.id, ARGV[1])
redis.call('PUBLISH', ARGV[2], 'token:' .. ARGV[1])
return value`

const REVOKE_ALL = `local hashes = redis.call('SMEMBERS', KEYS[1])
local ended = 0
for _, hash in ipairs(hashes) do ended = ended + redis.call('DEL', ARGV[1] .. hash) end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'user:' .. ARGV[3])
return ended`

export class RedisSessionStore implements SessionStore {
  private readonly eventsChannel: string

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly lifetimes: SessionLifetimes,
  ) {
    this.eventsChannel = `${prefix}${SESSION_EVENTS_CHANNEL}`
  }

  private sessionKey = (hash: string) => `${this.prefix}session:${hash}`
  private userKey = (userId: string) => `${this.prefix}user-sessions:${userId}`

  async create(user: SessionUser): Promise<string> {
    const token = newToken()
    const hash = tokenHash(token)
    const { idleTimeoutMs, absoluteTimeoutMs } = this.lifetimes
    const userJson = JSON.stringify({ id: user.id, email: user.email })
    const keys = [this.sessionKey(hash), this.userKey(user.id)]
    await this.redis.eval(
      CREATE,
      2,
      ...keys,
      userJson,
      Math.min(idleTimeoutMs, absoluteTimeoutMs),
      absoluteTimeoutMs,
      hash,
    )
    return token
  }

  async touch(token: string): Promise<Session | undefined> {
    return parse(
      await this.redis.eval(TOUCH, 1, this.sessionKey(tokenHash(token)), this.lifetimes.idleTimeoutMs),
    )
  }

  async touchMany(tokens: string[]): Promise<(Session | undefined)[]> {
    if (tokens.length === 0) return []
    const pipeline = this.redis.pipeline()
    for (const token of tokens)
      pipeline.eval(TOUCH, 1, this.sessionKey(tokenHash(token)), this.lifetimes.idleTimeoutMs)
    const results = (await pipeline.exec()) ?? []
    return results.map(([error, value]) => {
      if (error) throw error
      return parse(value)
    })
  }

  async revoke(token: string): Promise<SessionUser | undefined> {
    const hash = tokenHash(token)
    const keys = [this.sessionKey(hash), `${this.prefix}user-sessions:`]
    return parse(await this.redis.eval(REVOKE, 2, ...keys, hash, this.eventsChannel))?.user
  }

  async revokeAllForUser(userId: string): Promise<number> {
    const args = [`${this.prefix}session:`, this.eventsChannel, userId]
    return Number(await this.redis.eval(REVOKE_ALL, 1, this.userKey(userId), ...args))
  }
}

const parse = (value: unknown): Session | undefined =>
  typeof value === 'string' ? (JSON.parse(value) as Session) : undefined
