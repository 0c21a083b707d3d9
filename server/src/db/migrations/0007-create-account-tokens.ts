import { sql, type Kysely } from 'kysely'

// Single-use tokens sent by mail (password reset, email verification and change) or handed to a login
// half done: only the hash is kept, and a token is deleted when used. `detail`: a new email address.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('account_tokens')
    .addColumn('token_hash', 'varchar(64)', (column) => column.primaryKey())
    .addColumn('user_id', 'bigint', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'varchar(32)', (column) => column.notNull())
    .addColumn('detail', 'text')
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .addColumn('created_on', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('account_tokens_user_id_idx')
    .on('account_tokens')
    .columns(['user_id', 'purpose'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('account_tokens').execute()
}
