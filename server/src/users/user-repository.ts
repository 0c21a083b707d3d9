import { defaultDisplayName } from '@chat/contract'
import { sql, type Selectable, type Transaction } from 'kysely'
import { likeLiteral, type Db } from '../db/database.ts'
import type { Database, UsersTable } from '../db/schema.ts'

export interface User {
  id: string
  email: string
  /** what others see of the user */
  displayName: string
  passwordHash: string
  createdOn: Date
  confirmed: boolean
  admin: boolean
  /** cannot log in; set by an admin */
  disabled: boolean
  /** erased: only its id is left, for its messages and the audit log */
  deleted: boolean
}

type Executor = Db | Transaction<Database>

/** What others see of a deleted account */
export const DELETED_USER_NAME = 'Deleted user'

const toUser = (row: Selectable<UsersTable>): User => ({
  id: String(row.id),
  email: row.email,
  displayName: row.display_name,
  passwordHash: row.password,
  createdOn: row.created_on,
  confirmed: row.confirmed,
  admin: row.is_admin,
  disabled: row.disabled,
  deleted: row.deleted_on !== null,
})

/** The only module that reads or writes `users`. Emails compare regardless of case. */
export class UserRepository {
  constructor(private readonly db: Db) {}

  async findByEmail(email: string, executor: Executor = this.db): Promise<User | undefined> {
    const row = await executor
      .selectFrom('users')
      .selectAll()
      .where(sql<string>`lower(email)`, '=', email.toLowerCase())
      .executeTakeFirst()
    return row && toUser(row)
  }

  async findById(id: string, executor: Executor = this.db): Promise<User | undefined> {
    const row = await executor.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
    return row && toUser(row)
  }

  /** undefined when the email is taken already (in any case). */
  async insert(
    user: { email: string; displayName?: string; passwordHash: string; admin?: boolean; confirmed?: boolean },
    executor: Executor = this.db,
  ): Promise<User | undefined> {
    const row = await executor
      .insertInto('users')
      .values({
        email: user.email,
        display_name: user.displayName ?? defaultDisplayName(user.email),
        password: user.passwordHash,
        is_admin: user.admin ?? false,
        confirmed: user.confirmed ?? false,
      })
      .onConflict((conflict) => conflict.expression(sql`lower(email)`).doNothing())
      .returningAll()
      .executeTakeFirst()
    return row && toUser(row)
  }

  /** A page of users whose email contains `query` (any case), ordered by email, and how many match. */
  async search(
    query: string,
    offset: number,
    limit: number,
  ): Promise<{ users: (User & { twoFactor: boolean; lastLoginOn: Date | null })[]; total: number }> {
    const pattern = `%${likeLiteral(query.toLowerCase())}%`
    const matching = this.db.selectFrom('users').where(sql<string>`lower(email)`, 'like', pattern)
    const [rows, count] = await Promise.all([
      matching
        .leftJoin('user_totp as t', 't.user_id', 'users.id')
        .selectAll('users')
        .select((eb) => eb.fn.coalesce('t.enabled', eb.val(false)).as('two_factor'))
        .orderBy(sql`lower(email)`)
        .offset(offset)
        .limit(limit)
        .execute(),
      matching.select((eb) => eb.fn.countAll<string | number>().as('count')).executeTakeFirstOrThrow(),
    ])
    return {
      users: rows.map((row) => ({
        ...toUser(row),
        twoFactor: Boolean(row.two_factor),
        lastLoginOn: row.last_login_on,
      })),
      total: Number(count.count),
    }
  }

  /** false when there is no such user */
  async update(
    id: string,
    changes: {
      passwordHash?: string
      admin?: boolean
      disabled?: boolean
      displayName?: string
      confirmed?: boolean
    },
    executor: Executor = this.db,
  ): Promise<boolean> {
    const result = await executor
      .updateTable('users')
      .set({
        password: changes.passwordHash,
        is_admin: changes.admin,
        disabled: changes.disabled,
        display_name: changes.displayName,
        confirmed: changes.confirmed,
      })
      .where('id', '=', id)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  /** A new (confirmed) address; false when another account has it (in any case: the unique index says). */
  async changeEmail(id: string, email: string): Promise<boolean> {
    try {
      await this.db.updateTable('users').set({ email, confirmed: true }).where('id', '=', id).execute()
      return true
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return false // unique_violation
      throw error
    }
  }

  async stampLogin(id: string): Promise<void> {
    await this.db.updateTable('users').set({ last_login_on: new Date() }).where('id', '=', id).execute()
  }

  /**
   * Deletes an account: everything personal goes (email, password, second factor, sessions, mailed links);
   * the row stays, disabled, so its messages keep an author. false when there is no such (live) user.
   */
  async erase(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('users')
        .set({
          email: `deleted-${id}`,
          display_name: DELETED_USER_NAME,
          password: '!', // no password hash can match this
          is_admin: false,
          disabled: true,
          confirmed: false,
          last_login_on: null,
          deleted_on: new Date(),
        })
        .where('id', '=', id)
        .where('deleted_on', 'is', null)
        .executeTakeFirst()
      if (result.numUpdatedRows === 0n) return false
      for (const table of ['user_totp', 'recovery_codes', 'account_tokens', 'sessions'] as const)
        await trx.deleteFrom(table).where('user_id', '=', id).execute()
      return true
    })
  }
}
