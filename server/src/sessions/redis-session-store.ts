import type { Redis } from 'ioredis'
import {
  byLastUse,
  newToken,
  SESSION_EVENTS_CHANNEL,
  tokenHash,
  UNKNOWN_CLIENT,
  type Session,
  type SessionClient,
  type SessionInfo,
  type SessionLifetimes,
  type SessionStore,
  type SessionUser,
} from './session-store.ts'

// Each script is one round trip and reads Redis's own clock, so processes whose clocks differ agree on expiry.
// Keys: session:<hash> -> {"user":…,"client":…,"createdAt":ms,"expiresAt":ms}, TTL = min(idle, time left);
// user-sessions:<id> -> set of hashes. A use only moves the TTL (PEXPIRE writes no data, so it still works
// when Redis is out of memory); the last use is read back from it. (Times have 13 digits: cjson keeps 14.)
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

const CREATE = `${NOW}
local expiresAt = now + tonumber(ARGV[3])
local session = {user = cjson.decode(ARGV[1]), client = cjson.decode(ARGV[5]), createdAt = now, expiresAt = expiresAt}
redis.call('SET', KEYS[1], cjson.encode(session), 'PX', ARGV[2])
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

// Only the user's own session: someone else's id ends nothing.
const REVOKE_BY_ID = `local value = redis.call('GET', KEYS[1])
if not value or cjson.decode(value).user.id ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], 'token:' .. ARGV[2])
return 1`

const REVOKE_ALL = `local hashes = redis.call('SMEMBERS', KEYS[1])
local ended = 0
for _, hash in ipairs(hashes) do ended = ended + redis.call('DEL', ARGV[1] .. hash) end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'user:' .. ARGV[3])
return ended`

// The user's live sessions as [now, hash, value, ttl, …]; hashes of ended ones leave the set on the way.
const LIST = `${NOW}
local found = {now}
for _, hash in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local value = redis.call('GET', ARGV[1] .. hash)
  if value then
    table.insert(found, hash) table.insert(found, value) table.insert(found, redis.call('PTTL', ARGV[1] .. hash))
  else redis.call('SREM', KEYS[1], hash) end
end
return found`

interface StoredSession extends Session {
  client: SessionClient
  createdAt: number
}

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

  async create(user: SessionUser, client: SessionClient = UNKNOWN_CLIENT): Promise<string> {
    const token = newToken()
    const hash = tokenHash(token)
    const { idleTimeoutMs, absoluteTimeoutMs } = this.lifetimes
    const keys = [this.sessionKey(hash), this.userKey(user.id)]
    await this.redis.eval(
      CREATE,
      2,
      ...keys,
      JSON.stringify({ id: user.id, email: user.email }),
      Math.min(idleTimeoutMs, absoluteTimeoutMs),
      absoluteTimeoutMs,
      hash,
      JSON.stringify({ userAgent: client.userAgent, address: client.address }),
    )
    return token
  }

  async touch(token: string): Promise<Session | undefined> {
    return sessionOf(
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
      return sessionOf(value)
    })
  }

  async revoke(token: string): Promise<SessionUser | undefined> {
    const hash = tokenHash(token)
    const keys = [this.sessionKey(hash), `${this.prefix}user-sessions:`]
    return sessionOf(await this.redis.eval(REVOKE, 2, ...keys, hash, this.eventsChannel))?.user
  }

  async revokeAllForUser(userId: string): Promise<number> {
    const args = [`${this.prefix}session:`, this.eventsChannel, userId]
    return Number(await this.redis.eval(REVOKE_ALL, 1, this.userKey(userId), ...args))
  }

  async list(userId: string): Promise<SessionInfo[]> {
    const [now, ...found] = (await this.redis.eval(
      LIST,
      1,
      this.userKey(userId),
      `${this.prefix}session:`,
    )) as [number, ...(string | number)[]]
    const sessions: SessionInfo[] = []
    for (let i = 0; i < found.length; i += 3) {
      const { client, createdAt, expiresAt } = JSON.parse(String(found[i + 1])) as StoredSession
      // each use set the TTL to the idle timeout (or to the absolute end, when nearer: then this is the
      // earliest the last use can have been)
      const lastUsedAt = now - (this.lifetimes.idleTimeoutMs - Number(found[i + 2]))
      sessions.push({
        id: String(found[i]),
        client,
        createdAt,
        lastUsedAt: Math.max(createdAt, lastUsedAt),
        expiresAt,
      })
    }
    return sessions.sort(byLastUse)
  }

  async revokeById(userId: string, id: string): Promise<boolean> {
    const keys = [this.sessionKey(id), this.userKey(userId)]
    return (await this.redis.eval(REVOKE_BY_ID, 2, ...keys, userId, id, this.eventsChannel)) === 1
  }
}

/** The session in a stored value, as the callers of touch and revoke see it. */
function sessionOf(value: unknown): Session | undefined {
  if (typeof value !== 'string') return undefined
  const { user, expiresAt } = JSON.parse(value) as StoredSession
  return { user, expiresAt }
}
