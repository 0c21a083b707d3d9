import { sql, type Selectable, type Transaction } from 'kysely'
import type { Db } from '../db/database.ts'
import type { Database, UsersTable } from '../db/schema.ts'

export interface User {
  id: string
  email: string
  passwordHash: string
  createdOn: Date
  confirmed: boolean
  admin: boolean
  /** cannot log in; set by an admin */
  disabled: boolean
}

type Executor = Db | Transaction<Database>

const toUser = (row: Selectable<UsersTable>): User => ({
  id: String(row.id),
  email: row.email,
  passwordHash: row.password,
  createdOn: row.created_on,
  confirmed: row.confirmed,
  admin: row.is_admin,
  disabled: row.disabled,
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
    user: { email: string; passwordHash: string; admin?: boolean },
    executor: Executor = this.db,
  ): Promise<User | undefined> {
    const row = await executor
      .insertInto('users')
      .values({ email: user.email, password: user.passwordHash, is_admin: user.admin ?? false })
      .onConflict((conflict) => conflict.expression(sql`lower(email)`).doNothing())
      .returningAll()
      .executeTakeFirst()
    return row && toUser(row)
  }

  /** false when there is no such user */
  async update(
    id: string,
    changes: { passwordHash?: string; admin?: boolean; disabled?: boolean },
    executor: Executor = this.db,
  ): Promise<boolean> {
    const result = await executor
      .updateTable('users')
      .set({ password: changes.passwordHash, is_admin: changes.admin, disabled: changes.disabled })
      .where('id', '=', id)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  async stampLogin(id: string): Promise<void> {
    await this.db.updateTable('users').set({ last_login_on: new Date() }).where('id', '=', id).execute()
  }

  /** false when there is no such user */
  async delete(id: string, executor: Executor = this.db): Promise<boolean> {
    const result = await executor.deleteFrom('users').where('id', '=', id).executeTakeFirst()
    return result.numDeletedRows > 0n
  }
}
