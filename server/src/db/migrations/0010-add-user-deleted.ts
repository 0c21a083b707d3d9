import { type Kysely } from 'kysely'

// A deleted account keeps its row, emptied of everything personal, so its messages keep an author ("a
// deleted user") and the audit log its id; `deleted_on` says when.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('deleted_on', 'timestamptz').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('deleted_on').execute()
}
