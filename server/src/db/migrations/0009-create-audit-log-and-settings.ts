import { sql, type Kysely } from 'kysely'

// Security events (logins, password and 2FA changes, admin actions): who, to whom, when, from where. The
// app only ever inserts: no foreign keys, so an entry outlives the accounts it names. Users also get the
// time of their last login, and the instance has settings admins change (requiring 2FA of admins).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'bigserial', (column) => column.primaryKey())
    .addColumn('at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addColumn('event', 'varchar(48)', (column) => column.notNull())
    .addColumn('actor_id', 'bigint')
    .addColumn('actor_email', 'text')
    .addColumn('target_id', 'bigint')
    .addColumn('target_email', 'text')
    .addColumn('address', 'text')
    .addColumn('detail', 'text')
    .execute()
  await db.schema.createIndex('audit_events_at_idx').on('audit_events').column('at').execute()
  await db.schema.createIndex('audit_events_event_idx').on('audit_events').columns(['event', 'at']).execute()
  await db.schema.alterTable('users').addColumn('last_login_on', 'timestamptz').execute()
  await db.schema
    .createTable('settings')
    .addColumn('name', 'varchar(64)', (column) => column.primaryKey())
    .addColumn('value', 'text', (column) => column.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('settings').execute()
  await db.schema.alterTable('users').dropColumn('last_login_on').execute()
  await db.schema.dropTable('audit_events').execute()
}
