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
  disabled: Generated<boolean>
  last_login_on: Date | null
  deleted_on: Date | null
  display_name: string
}

export interface RoomsTable {
  id: BigSerial
  name: string
  created_by: string | null
  created_on: Generated<Date>
  last_seq: ColumnType<string | number | bigint, never, string>
  kind: Generated<RoomKind>
  /** what people see; `name` is the stable, URL-safe key */
  title: string
  topic: Generated<string>
  archived_on: Date | null
  /** "<lower user id>:<higher user id>" of a direct room, else null */
  direct_key: string | null
}

export type RoomKind = 'public' | 'private' | 'direct'
export type RoomRole = 'owner' | 'moderator' | 'member'

export interface RoomMembersTable {
  room_id: ColumnType<string | number | bigint, string, never>
  user_id: ColumnType<string | number | bigint, string, never>
  role: Generated<RoomRole>
  last_read_seq: ColumnType<string | number | bigint, string | number | undefined, string | number>
  joined_on: Generated<Date>
}

export interface MessagesTable {
  id: BigSerial
  room_id: string
  seq: ColumnType<string | number | bigint, string, never>
  user_id: string
  client_id: string
  body: string
  created_on: Generated<Date>
}

/** epoch milliseconds in a bigint: pg hands it back as a string, PGlite as a number or bigint */
type EpochMs = ColumnType<string | number | bigint, number, number>

export interface SessionsTable {
  token_hash: string
  user_id: ColumnType<string | number | bigint, string, never>
  user_email: string
  user_agent: string
  address: string
  created_at: EpochMs
  last_used_at: EpochMs
  expires_at: EpochMs
  idle_until: EpochMs
}

export interface AccountTokensTable {
  token_hash: string
  user_id: ColumnType<string | number | bigint, string, never>
  purpose: string
  detail: string | null
  expires_at: Date
  created_on: Generated<Date>
}

export interface UserTotpTable {
  user_id: ColumnType<string | number | bigint, string, never>
  secret: string
  enabled: Generated<boolean>
  last_step: ColumnType<string | number | bigint, never, number>
  created_on: Generated<Date>
}

export interface RecoveryCodesTable {
  user_id: ColumnType<string | number | bigint, string, never>
  code_hash: string
}

export interface AuditEventsTable {
  id: BigSerial
  at: Generated<Date>
  event: string
  actor_id: ColumnType<string | number | bigint | null, string | null, never>
  actor_email: string | null
  target_id: ColumnType<string | number | bigint | null, string | null, never>
  target_email: string | null
  address: string | null
  detail: string | null
}

export interface SettingsTable {
  name: string
  value: string
}

export interface Database {
  users: UsersTable
  rooms: RoomsTable
  messages: MessagesTable
  room_members: RoomMembersTable
  sessions: SessionsTable
  account_tokens: AccountTokensTable
  user_totp: UserTotpTable
  recovery_codes: RecoveryCodesTable
  audit_events: AuditEventsTable
  settings: SettingsTable
}
