import { sql, type Kysely } from 'kysely'

// Full-text search over messages. `search` is the body's tsvector, generated and stored, so ranking reads
// it instead of parsing every hit's text again, and a blanked body (a deleted message) has an empty
// vector that matches nothing. The 'simple' configuration lowercases words and neither stems nor drops
// stop words: a team writes in more than one language, and English stemming would mangle the others'
// words and drop ones like "it" or "who"; searches match word beginnings instead (search-repository.ts).
// Adding the column rewrites `messages` once. The other indexes serve the filters: a date range
// (`created_on`) and an author's name in any case (users' `lower(display_name)`); a room and a user id
// already have theirs (`messages_room_seq_key`, `messages_user_client_id_key`).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('messages')
    .addColumn('search', sql`tsvector`, (column) =>
      column
        .generatedAlwaysAs(sql`to_tsvector('simple'::regconfig, body)`)
        .stored()
        .notNull(),
    )
    .execute()
  await db.schema.createIndex('messages_search_idx').on('messages').using('gin').column('search').execute()
  await db.schema.createIndex('messages_created_on_idx').on('messages').column('created_on').execute()
  await db.schema
    .createIndex('users_display_name_lower_idx')
    .on('users')
    .expression(sql`lower(display_name)`)
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_display_name_lower_idx').execute()
  await db.schema.dropIndex('messages_created_on_idx').execute()
  await db.schema.alterTable('messages').dropColumn('search').execute()
}
