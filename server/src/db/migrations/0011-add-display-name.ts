import { sql, type Kysely } from 'kysely'

// What others see of a user instead of their email. Existing users get the part of their email before
// the @ (at most 64 characters), deleted ones "Deleted user".
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('display_name', 'varchar(64)').execute()
  await sql`update users set display_name = case
      when deleted_on is not null then 'Deleted user'
      else coalesce(nullif(left(split_part(email, '@', 1), 64), ''), 'user')
    end`.execute(db)
  await db.schema
    .alterTable('users')
    .alterColumn('display_name', (column) => column.setNotNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('display_name').execute()
}
