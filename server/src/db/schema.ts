import type { ColumnType, Generated } from 'kysely'

/** bigserial: pg hands it back as a string, PGlite as a number or bigint; repositories turn it into a string. */
type BigSerial = ColumnType<string | number | bigint, never, never>

export interface UsersTable {
  id: BigSerial
  email: string
  /** argon2id, or passlib's pbkdf2-sha256 for users carried over from the original */
  password: string
  created_on: Generated<Date>
  confirmed: Generated<boolean>
  is_admin: Generated<boolean>
}

export interface Database {
  users: UsersTable
}
