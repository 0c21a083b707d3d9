import type { Db } from '../db/database.ts'
import { newToken, tokenHash } from '../sessions/session-store.ts'

/** What a token lets its holder do: set a new password (mailed), finish a login with a second factor. */
export type TokenPurpose = 'reset_password' | 'second_factor' | 'verify_email' | 'change_email'

/** Whose a used token was, and what it carried (the new address of an email change). */
export interface TakenToken {
  userId: string
  detail: string | null
}

/**
 * The only module that reads or writes `account_tokens`: 256-bit random tokens (mailed, or handed to a
 * login half done), kept as hashes (ASVS 5.0 V6.4.1), each usable once before it expires.
 */
export class AccountTokenRepository {
  constructor(private readonly db: Db) {}

  async create(userId: string, purpose: TokenPurpose, lifetimeMs: number, detail?: string): Promise<string> {
    const token = newToken()
    await this.db
      .insertInto('account_tokens')
      .values({
        token_hash: tokenHash(token),
        user_id: userId,
        purpose,
        detail: detail ?? null,
        expires_at: new Date(Date.now() + lifetimeMs),
      })
      .execute()
    return token
  }

  /** The user a live token belongs to, leaving the token in place; undefined when unknown or expired. */
  async holder(token: string, purpose: TokenPurpose): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('account_tokens')
      .select('user_id')
      .where('token_hash', '=', tokenHash(token))
      .where('purpose', '=', purpose)
      .where('expires_at', '>', new Date())
      .executeTakeFirst()
    return row && String(row.user_id)
  }

  /** Uses the token up, once; undefined when unknown, expired or already used. */
  async take(token: string, purpose: TokenPurpose): Promise<TakenToken | undefined> {
    const row = await this.db
      .deleteFrom('account_tokens')
      .where('token_hash', '=', tokenHash(token))
      .where('purpose', '=', purpose)
      .returning(['user_id', 'expires_at', 'detail'])
      .executeTakeFirst()
    return row && row.expires_at > new Date()
      ? { userId: String(row.user_id), detail: row.detail }
      : undefined
  }

  /** Every other token of the user for that purpose: older links die once one is used. */
  async deleteAll(userId: string, purpose: TokenPurpose): Promise<void> {
    await this.db
      .deleteFrom('account_tokens')
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .execute()
  }
}
