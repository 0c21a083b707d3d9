import { createHash } from 'node:crypto'
import type { Db } from '../db/database.ts'

export interface TotpRecord {
  secret: string
  enabled: boolean
  lastStep: number
}

/** Recovery codes are random and long, so a plain SHA-256 keeps them safe at rest. */
export const recoveryCodeHash = (code: string) =>
  createHash('sha256').update(code.replaceAll('-', '').toLowerCase()).digest('base64url')

/** The only module that reads or writes `user_totp` and `recovery_codes`. */
export class TwoFactorRepository {
  constructor(private readonly db: Db) {}

  async find(userId: string): Promise<TotpRecord | undefined> {
    const row = await this.db
      .selectFrom('user_totp')
      .select(['secret', 'enabled', 'last_step'])
      .where('user_id', '=', userId)
      .executeTakeFirst()
    return row && { secret: row.secret, enabled: row.enabled, lastStep: Number(row.last_step) }
  }

  /** A new, not yet enabled secret, replacing one not yet enabled; false when 2FA is on already. */
  async savePending(userId: string, secret: string): Promise<boolean> {
    const row = await this.db
      .insertInto('user_totp')
      .values({ user_id: userId, secret })
      .onConflict((conflict) =>
        conflict.column('user_id').doUpdateSet({ secret }).where('user_totp.enabled', '=', false),
      )
      .returning('user_id')
      .executeTakeFirst()
    return row !== undefined
  }

  /**
   * Records that the code of time step `step` was used, only if it is later than the last one used: each
   * code works once (ASVS 5.0 V6.5.1). Enables 2FA on the way when asked. false when the step was used.
   */
  async useStep(userId: string, step: number, enable = false): Promise<boolean> {
    const result = await this.db
      .updateTable('user_totp')
      .set({ last_step: step, ...(enable ? { enabled: true } : {}) })
      .where('user_id', '=', userId)
      .where('last_step', '<', step)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  async remove(userId: string): Promise<void> {
    await this.db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
    await this.db.deleteFrom('user_totp').where('user_id', '=', userId).execute()
  }

  async replaceRecoveryCodes(userId: string, codes: string[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
      await trx
        .insertInto('recovery_codes')
        .values(codes.map((code) => ({ user_id: userId, code_hash: recoveryCodeHash(code) })))
        .execute()
    })
  }

  /** Uses a recovery code up; false when it is not one of the user's (any more). */
  async takeRecoveryCode(userId: string, code: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('recovery_codes')
      .where('user_id', '=', userId)
      .where('code_hash', '=', recoveryCodeHash(code))
      .executeTakeFirst()
    return result.numDeletedRows > 0n
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<string | number>().as('count'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow()
    return Number(row.count)
  }
}
