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

interface Entry {
  user: SessionUser
  client: SessionClient
  createdAt: number
  lastUsedAt: number
  expiresAt: number
  idleUntil: number
}

/**
 * Sessions in this process only, with the same lifetimes as the Redis store: what the benchmarks' baseline
 * checks tokens against. Expired entries are dropped when looked up and by a sweep, so memory stays
 * bounded by live sessions.
 */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Entry>()
  private readonly sweeper: NodeJS.Timeout

  /** `publish` hears of sessions that end early, in the words of SESSION_EVENTS_CHANNEL */
  constructor(
    private readonly lifetimes: SessionLifetimes,
    private readonly publish: (event: string) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(lifetimes.idleTimeoutMs, 60_000))
    this.sweeper.unref()
  }

  async create(user: SessionUser, client: SessionClient = UNKNOWN_CLIENT): Promise<string> {
    const token = newToken()
    const now = this.now()
    const expiresAt = now + this.lifetimes.absoluteTimeoutMs
    this.sessions.set(tokenHash(token), {
      user: { ...user },
      client: { ...client },
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      idleUntil: Math.min(now + this.lifetimes.idleTimeoutMs, expiresAt),
    })
    return token
  }

  async touch(token: string): Promise<Session | undefined> {
    const entry = this.live(tokenHash(token))
    if (!entry) return undefined
    entry.lastUsedAt = this.now()
    entry.idleUntil = Math.min(entry.lastUsedAt + this.lifetimes.idleTimeoutMs, entry.expiresAt)
    return { user: { ...entry.user }, expiresAt: entry.expiresAt }
  }

  async touchMany(tokens: string[]): Promise<(Session | undefined)[]> {
    return Promise.all(tokens.map((token) => this.touch(token)))
  }

  async revoke(token: string): Promise<SessionUser | undefined> {
    const hash = tokenHash(token)
    const entry = this.live(hash)
    this.sessions.delete(hash)
    if (entry) this.publish(`token:${hash}`)
    return entry && { ...entry.user }
  }

  async revokeAllForUser(userId: string): Promise<number> {
    let ended = 0
    for (const [hash, entry] of this.sessions) {
      if (entry.user.id !== userId) continue
      if (this.live(hash)) ended++
      this.sessions.delete(hash)
    }
    this.publish(`user:${userId}`)
    return ended
  }

  async list(userId: string): Promise<SessionInfo[]> {
    return [...this.sessions.keys()]
      .flatMap((hash) => {
        const entry = this.live(hash)
        if (entry?.user.id !== userId) return []
        const { client, createdAt, lastUsedAt, expiresAt } = entry
        return [{ id: hash, client: { ...client }, createdAt, lastUsedAt, expiresAt }]
      })
      .sort(byLastUse)
  }

  async revokeById(userId: string, id: string): Promise<boolean> {
    if (this.live(id)?.user.id !== userId) return false
    this.sessions.delete(id)
    this.publish(`token:${id}`)
    return true
  }

  close(): void {
    clearInterval(this.sweeper)
  }

  private live(hash: string): Entry | undefined {
    const entry = this.sessions.get(hash)
    if (entry && entry.idleUntil <= this.now()) {
      this.sessions.delete(hash)
      return undefined
    }
    return entry
  }

  private sweep(): void {
    for (const hash of this.sessions.keys()) this.live(hash)
  }
}
