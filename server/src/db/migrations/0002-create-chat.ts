import { sql, type Kysely } from 'kysely'

// Rooms carry their own message counter: a send takes the room row's lock to number its message, so
// messages of one room commit in `seq` order and a client can resume from the last `seq` it saw.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rooms')
    .addColumn('id', 'bigserial', (column) => column.primaryKey())
    .addColumn('name', 'varchar(32)', (column) => column.notNull().unique())
    .addColumn('created_by', 'bigint', (column) => column.references('users.id').onDelete('set null'))
    .addColumn('created_on', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addColumn('last_seq', 'bigint', (column) => column.notNull().defaultTo(0))
    .execute()
  await db.schema
    .createTable('messages')
    .addColumn('id', 'bigserial', (column) => column.primaryKey())
    .addColumn('room_id', 'bigint', (column) => column.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .addColumn('user_id', 'bigint', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('client_id', 'varchar(64)', (column) => column.notNull())
    .addColumn('body', 'text', (column) => column.notNull())
    .addColumn('created_on', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('messages_room_seq_key', ['room_id', 'seq'])
    // a client's own id for its message: a re-send after a lost ack is recognised, not stored twice
    .addUniqueConstraint('messages_user_client_id_key', ['user_id', 'client_id'])
    .execute()
  await sql`insert into rooms (name) values ('general')`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('messages').execute()
  await db.schema.dropTable('rooms').execute()
}
