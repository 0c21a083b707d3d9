import { sql, type Kysely } from 'kysely'

// The original's table (id, email, password, created_on, confirmed), plus an admin flag, and email unique
// regardless of case: the original's case-sensitive lookup let `Admin@x` and `admin@x` be two users.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'bigserial', (column) => column.primaryKey())
    .addColumn('email', 'varchar(64)', (column) => column.notNull())
    .addColumn('password', 'text', (column) => column.notNull())
    .addColumn('created_on', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addColumn('confirmed', 'boolean', (column) => column.notNull().defaultTo(false))
    .addColumn('is_admin', 'boolean', (column) => column.notNull().defaultTo(false))
    .execute()
  await db.schema
    .createIndex('users_email_lower_key')
    .on('users')
    .unique()
    .expression(sql`lower(email)`)
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('users').execute()
}
