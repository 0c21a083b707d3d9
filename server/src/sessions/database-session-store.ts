import type { Db } from '../db/database.ts'
import type { SessionsTable } from '../db/schema.ts'
import type { Selectable } from 'kysely'
import {
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

type Row = Selectable<SessionsTable>

const sessionOf = (row: Row): Session => ({
  user: { id: String(row.user_id), email: row.user_email },
  expiresAt: Number(row.expires_at),
})

/**
 * Sessions in the database, for a server without Redis (the embedded default): `npm start` keeps everyone
 * logged in across its own restart. The same lifetimes as the Redis store; only tokens' hashes are kept
 * (ASVS 5.0 V7.2.1); a session that ends early is announced through `publish`, in the words of
 * SESSION_EVENTS_CHANNEL, and a user's deletion takes their sessions with it.
 */
export class DatabaseSessionStore implements SessionStore {
  constructor(
    private readonly db: Db,
    private readonly lifetimes: SessionLifetimes,
    private readonly publish: (event: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  async create(user: SessionUser, client: SessionClient = UNKNOWN_CLIENT): Promise<string> {
    const token = newToken()
    const now = this.now()
    const expiresAt = now + this.lifetimes.absoluteTimeoutMs
    await this.db
      .insertInto('sessions')
      .values({
        token_hash: tokenHash(token),
        user_id: user.id,
        user_email: user.email,
        user_agent: client.userAgent,
        address: client.address,
        created_at: now,
        last_used_at: now,
        expires_at: expiresAt,
        idle_until: Math.min(now + this.lifetimes.idleTimeoutMs, expiresAt),
      })
      .execute()
    return token
  }

  async touch(token: string): Promise<Session | undefined> {
    return (await this.touchMany([token]))[0]
  }

  async touchMany(tokens: string[]): Promise<(Session | undefined)[]> {
    if (tokens.length === 0) return []
    const hashes = tokens.map(tokenHash)
    const now = this.now()
    const rows = await this.db
      .updateTable('sessions')
      .set((eb) => ({
        last_used_at: now,
        idle_until: eb.fn('least', [eb.val(now + this.lifetimes.idleTimeoutMs), 'expires_at']),
      }))
      .where('token_hash', 'in', [...new Set(hashes)])
      .where('idle_until', '>', now)
      .returningAll()
      .execute()
    const byHash = new Map(rows.map((row) => [row.token_hash, sessionOf(row)]))
    return hashes.map((hash) => byHash.get(hash))
  }

  async revoke(token: string): Promise<SessionUser | undefined> {
    const hash = tokenHash(token)
    const row = await this.db
      .deleteFrom('sessions')
      .where('token_hash', '=', hash)
      .returningAll()
      .executeTakeFirst()
    if (!row || Number(row.idle_until) <= this.now()) return undefined
    this.publish(`token:${hash}`)
    return sessionOf(row).user
  }

  async revokeAllForUser(userId: string): Promise<number> {
    const rows = await this.db
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .returning('idle_until')
      .execute()
    this.publish(`user:${userId}`)
    const now = this.now()
    return rows.filter((row) => Number(row.idle_until) > now).length
  }

  async list(userId: string): Promise<SessionInfo[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('idle_until', '>', this.now())
      .orderBy('last_used_at', 'desc')
      .execute()
    return rows.map((row) => ({
      id: row.token_hash,
      client: { userAgent: row.user_agent, address: row.address },
      createdAt: Number(row.created_at),
      lastUsedAt: Number(row.last_used_at),
      expiresAt: Number(row.expires_at),
    }))
  }

  async revokeById(userId: string, id: string): Promise<boolean> {
    const row = await this.db
      .deleteFrom('sessions')
      .where('token_hash', '=', id)
      .where('user_id', '=', userId)
      .where('idle_until', '>', this.now())
      .returning('token_hash')
      .executeTakeFirst()
    if (row) this.publish(`token:${id}`)
    return row !== undefined
  }

  /** Drops ended sessions; returns how many. */
  async sweep(): Promise<number> {
    const result = await this.db
      .deleteFrom('sessions')
      .where('idle_until', '<=', this.now())
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
