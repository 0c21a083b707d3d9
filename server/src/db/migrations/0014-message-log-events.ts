import { sql, type Kysely } from 'kysely'

// Edits, deletions and reaction changes become events of the room's ordered log: each takes the next
// `seq` of the room (the same counter as messages) in `room_events`, so live members and resuming clients
// see them exactly once, in order. The message row keeps only its current state (the text, when it was
// edited, whether it was deleted); earlier texts go to `message_edits`, for the room's moderators.
// Replies point at a message of the same room by `seq`; mentions are stored at insert, for mention counts.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('messages')
    .addColumn('edited_on', 'timestamptz')
    .addColumn('deleted_on', 'timestamptz')
    .addColumn('reply_to_seq', 'bigint')
    .addColumn('mentions_room', 'boolean', (column) => column.notNull().defaultTo(false))
    .execute()
  await db.schema
    .createTable('room_events')
    .addColumn('room_id', 'bigint', (column) => column.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .addColumn('kind', 'varchar(16)', (column) =>
      column.notNull().check(sql`kind in ('edit', 'delete', 'reaction')`),
    )
    .addColumn('target_seq', 'bigint', (column) => column.notNull())
    .addColumn('user_id', 'bigint', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_on', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('room_events_pkey', ['room_id', 'seq'])
    .execute()
  await db.schema
    .createTable('message_edits')
    .addColumn('id', 'bigserial', (column) => column.primaryKey())
    .addColumn('message_id', 'bigint', (column) =>
      column.notNull().references('messages.id').onDelete('cascade'),
    )
    .addColumn('previous_body', 'text', (column) => column.notNull())
    .addColumn('edited_on', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('message_edits_message_idx').on('message_edits').column('message_id').execute()
  await db.schema
    .createTable('message_reactions')
    .addColumn('message_id', 'bigint', (column) =>
      column.notNull().references('messages.id').onDelete('cascade'),
    )
    .addColumn('user_id', 'bigint', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('emoji', 'varchar(16)', (column) => column.notNull())
    .addColumn('created_on', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('message_reactions_pkey', ['message_id', 'emoji', 'user_id'])
    .execute()
  await db.schema
    .createTable('message_mentions')
    .addColumn('room_id', 'bigint', (column) => column.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .addColumn('user_id', 'bigint', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('message_mentions_pkey', ['room_id', 'seq', 'user_id'])
    .execute()
  // a user's mention counts per room after their read marker
  await db.schema
    .createIndex('message_mentions_user_idx')
    .on('message_mentions')
    .columns(['user_id', 'room_id', 'seq'])
    .execute()
  // @room mentions after a read marker, without reading the room's other messages
  await sql`create index messages_room_mention_idx on messages (room_id, seq) where mentions_room`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('message_mentions').execute()
  await db.schema.dropTable('message_reactions').execute()
  await db.schema.dropTable('message_edits').execute()
  await db.schema.dropTable('room_events').execute()
  await sql`drop index messages_room_mention_idx`.execute(db)
  await db.schema
    .alterTable('messages')
    .dropColumn('edited_on')
    .dropColumn('deleted_on')
    .dropColumn('reply_to_seq')
    .dropColumn('mentions_room')
    .execute()
}
