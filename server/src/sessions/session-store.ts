import { createHash, randomBytes } from 'node:crypto'

/**
 * What a session knows of its user: the original's `{id, email}`. Authority (admin, disabled) is read
 * from the database when it matters, never copied here, so a change to it takes effect at once.
 */
export interface SessionUser {
  id: string
  email: string
}

export interface SessionLifetimes {
  /** the session ends after this long unused; each use starts it again */
  idleTimeoutMs: number
  /** the session ends this long after login, however much it is used */
  absoluteTimeoutMs: number
}

export interface Session {
  user: SessionUser
  /** epoch ms of the absolute end; the idle end keeps moving while the session is used */
  expiresAt: number
}

/** Where a session was started from, as its user sees it in their list of sessions. */
export interface SessionClient {
  userAgent: string
  address: string
}

/** One live session as its user may see it (ASVS 5.0 V7.5.2); never its token. */
export interface SessionInfo {
  /** the token's hash: names the session without being able to use it */
  id: string
  client: SessionClient
  /** epoch ms */
  createdAt: number
  lastUsedAt: number
  expiresAt: number
}

export const UNKNOWN_CLIENT: SessionClient = { userAgent: '', address: '' }

/**
 * Published on the bus channel `<prefix>session-events` whenever sessions end early, so every WebSocket
 * process can close their sockets at once: `token:<hash>` for one session, `user:<id>` for all of a user's.
 */
export const SESSION_EVENTS_CHANNEL = 'session-events'

export interface SessionStore {
  /** Starts a session and returns its token; only the token's hash is stored. */
  create(user: SessionUser, client?: SessionClient): Promise<string>
  /** The session, sliding its idle timeout; undefined when unknown, expired or revoked. */
  touch(token: string): Promise<Session | undefined>
  /** `touch` for many sessions at once (one round trip): how open WebSockets keep theirs alive. */
  touchMany(tokens: string[]): Promise<(Session | undefined)[]>
  /** Ends one session; returns its user, undefined when it had already ended. */
  revoke(token: string): Promise<SessionUser | undefined>
  /** Ends every session of one user; returns how many there were. */
  revokeAllForUser(userId: string): Promise<number>
  /** The user's live sessions, the most recently used first. */
  list(userId: string): Promise<SessionInfo[]>
  /** Ends the session of that id if it is one of the user's; false when there is none. */
  revokeById(userId: string, id: string): Promise<boolean>
}

export const byLastUse = (a: SessionInfo, b: SessionInfo) => b.lastUsedAt - a.lastUsedAt

/** 256 bits from the CSPRNG, URL-safe (OWASP Session Management: at least 64 bits of entropy). */
export const newToken = () => randomBytes(32).toString('base64url')

/** A store dump holds only these, so it cannot be replayed as live tokens. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url')
