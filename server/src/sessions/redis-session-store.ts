import type { RedisClient } from '../redis/redis-plugin.ts'
import {
  byLastUse,
  newToken,
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
// Every command and script touches one key, so the store works on a Redis Cluster as on one Redis (a
// session's key is found from its token alone, so it cannot share a slot with its user's set).
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

const CREATE = `${NOW}
local session = {user = cjson.decode(ARGV[1]), client = cjson.decode(ARGV[4]), createdAt = now, expiresAt = now + tonumber(ARGV[3])}
redis.call('SET', KEYS[1], cjson.encode(session), 'PX', ARGV[2])`

// the user's set lives as long as their newest session can
const INDEX = `redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end`

const TOUCH = `${NOW}
local value = redis.call('GET', KEYS[1])
if not value then return nil end
local left = cjson.decode(value).expiresAt - now
if left <= 0 then redis.call('DEL', KEYS[1]) return nil end
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[1]), left))
return value`

// Ends the session if it is the given user's (any user's when ARGV[1] is empty): someone else's id ends nothing.
const END = `local value = redis.call('GET', KEYS[1])
if not value or (ARGV[1] ~= '' and cjson.decode(value).user.id ~= ARGV[1]) then return nil end
redis.call('DEL', KEYS[1])
return value`

// [now, value, ttl] of a live session, nil for an ended one
const READ = `${NOW}
local value = redis.call('GET', KEYS[1])
if not value then return nil end
return {now, value, redis.call('PTTL', KEYS[1])}`

interface StoredSession extends Session {
  client: SessionClient
  createdAt: number
}

/**
 * Sessions in Redis. A session that ends early is announced through `publish` (to the bus's session
 * events channel), as the database store does.
 */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly lifetimes: SessionLifetimes,
    private readonly publish: (event: string) => void,
  ) {}

  private sessionKey = (hash: string) => `${this.prefix}session:${hash}`
  private userKey = (userId: string) => `${this.prefix}user-sessions:${userId}`

  async create(user: SessionUser, client: SessionClient = UNKNOWN_CLIENT): Promise<string> {
    const token = newToken()
    const hash = tokenHash(token)
    const { idleTimeoutMs, absoluteTimeoutMs } = this.lifetimes
    // indexed first: a session that exists is always in its user's set, so "log out everywhere" finds it
    await this.redis.eval(INDEX, 1, this.userKey(user.id), hash, absoluteTimeoutMs)
    await this.redis.eval(
      CREATE,
      1,
      this.sessionKey(hash),
      JSON.stringify({ id: user.id, email: user.email }),
      Math.min(idleTimeoutMs, absoluteTimeoutMs),
      absoluteTimeoutMs,
      JSON.stringify({ userAgent: client.userAgent, address: client.address }),
    )
    return token
  }

  async touch(token: string): Promise<Session | undefined> {
    return sessionOf(
      await this.redis.eval(TOUCH, 1, this.sessionKey(tokenHash(token)), this.lifetimes.idleTimeoutMs),
    )
  }

  /** one command per session, all sent at once (their keys may lie on different cluster nodes) */
  async touchMany(tokens: string[]): Promise<(Session | undefined)[]> {
    return Promise.all(tokens.map((token) => this.touch(token)))
  }

  async revoke(token: string): Promise<SessionUser | undefined> {
    const hash = tokenHash(token)
    const user = sessionOf(await this.redis.eval(END, 1, this.sessionKey(hash), ''))?.user
    if (user) await this.ended(user.id, hash)
    return user
  }

  async revokeAllForUser(userId: string): Promise<number> {
    const hashes = await this.redis.smembers(this.userKey(userId))
    const ended = await Promise.all(hashes.map((hash) => this.redis.del(this.sessionKey(hash))))
    if (hashes.length > 0) await this.redis.srem(this.userKey(userId), ...hashes)
    this.publish(`user:${userId}`)
    return ended.reduce((sum, count) => sum + count, 0)
  }

  async list(userId: string): Promise<SessionInfo[]> {
    const hashes = await this.redis.smembers(this.userKey(userId))
    const found = (await Promise.all(
      hashes.map((hash) => this.redis.eval(READ, 1, this.sessionKey(hash))),
    )) as ([number, string, number] | null)[]
    const gone = hashes.filter((_, index) => !found[index])
    // hashes of ended sessions leave the set on the way
    if (gone.length > 0) await this.redis.srem(this.userKey(userId), ...gone)
    const sessions: SessionInfo[] = []
    found.forEach((read, index) => {
      if (!read) return
      const [now, value, ttl] = read
      const { client, createdAt, expiresAt } = JSON.parse(value) as StoredSession
      // each use set the TTL to the idle timeout (or to the absolute end, when nearer: then this is the
      // earliest the last use can have been)
      const lastUsedAt = now - (this.lifetimes.idleTimeoutMs - ttl)
      sessions.push({
        id: hashes[index]!,
        client,
        createdAt,
        lastUsedAt: Math.max(createdAt, lastUsedAt),
        expiresAt,
      })
    })
    return sessions.sort(byLastUse)
  }

  async revokeById(userId: string, id: string): Promise<boolean> {
    if (!(await this.redis.eval(END, 1, this.sessionKey(id), userId))) return false
    await this.ended(userId, id)
    return true
  }

  /** Out of its user's set, and every process told, so sockets on it close at once. */
  private async ended(userId: string, hash: string): Promise<void> {
    this.publish(`token:${hash}`)
    await this.redis.srem(this.userKey(userId), hash)
  }
}

/** The session in a stored value, as the callers of touch and revoke see it. */
function sessionOf(value: unknown): Session | undefined {
  if (typeof value !== 'string') return undefined
  const { user, expiresAt } = JSON.parse(value) as StoredSession
  return { user, expiresAt }
}
