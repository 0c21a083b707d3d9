import { sql, type Kysely } from 'kysely'

// The room list counts, per room, the messages by others after the reader's marker. The unique
// (room_id, seq) index finds them, but telling whose they are read each one's heap page: a user in 500
// rooms with thousands unread paid tens of thousands of page reads. With the author in the index the
// count is an index-only scan (bench/room-list.ts).
export async function up(db: Kysely<unknown>): Promise<void> {
  // Kysely's index builder has no INCLUDE clause
  await sql`create index messages_room_seq_author_idx on messages (room_id, seq) include (user_id)`.execute(
    db,
  )
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('messages_room_seq_author_idx').execute()
}
