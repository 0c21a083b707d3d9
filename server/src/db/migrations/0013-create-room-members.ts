import { sql, type Kysely } from 'kysely'

// Rooms grow kinds (public: listed and open to all; private: members only, joined by invitation; direct:
// exactly two users, one room per pair through `direct_key`), a display title and topic apart from the
// stable URL name, and an archived state. `room_members` says who is in which room with which role, and
// how far each member has read (`last_read_seq`). Existing rooms stay public; their creators become owners
// and everyone who wrote in them a member, with everything there counted as read.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('rooms')
    .addColumn('kind', 'varchar(16)', (column) =>
      column
        .notNull()
        .defaultTo('public')
        .check(sql`kind in ('public', 'private', 'direct')`),
    )
    .addColumn('title', 'varchar(64)')
    .addColumn('topic', 'varchar(250)', (column) => column.notNull().defaultTo(''))
    .addColumn('archived_on', 'timestamptz')
    // "<lower user id>:<higher user id>" for a direct room, null for the others
    .addColumn('direct_key', 'varchar(64)', (column) => column.unique())
    .execute()
  await sql`update rooms set title = name`.execute(db)
  await db.schema
    .alterTable('rooms')
    .alterColumn('title', (column) => column.setNotNull())
    .execute()
  await db.schema
    .createTable('room_members')
    .addColumn('room_id', 'bigint', (column) => column.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('user_id', 'bigint', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'varchar(16)', (column) =>
      column
        .notNull()
        .defaultTo('member')
        .check(sql`role in ('owner', 'moderator', 'member')`),
    )
    .addColumn('last_read_seq', 'bigint', (column) => column.notNull().defaultTo(0))
    .addColumn('joined_on', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('room_members_pkey', ['room_id', 'user_id'])
    .execute()
  // a user's rooms: the room list and every membership check start from the user
  await db.schema
    .createIndex('room_members_user_idx')
    .on('room_members')
    .columns(['user_id', 'room_id'])
    .execute()
  await sql`
    insert into room_members (room_id, user_id, role, last_read_seq)
    select r.id, r.created_by, 'owner', r.last_seq from rooms r where r.created_by is not null
  `.execute(db)
  await sql`
    insert into room_members (room_id, user_id, role, last_read_seq)
    select distinct m.room_id, m.user_id, 'member', r.last_seq
    from messages m join rooms r on r.id = m.room_id
    on conflict (room_id, user_id) do nothing
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('room_members').execute()
  await db.schema
    .alterTable('rooms')
    .dropColumn('kind')
    .dropColumn('title')
    .dropColumn('topic')
    .dropColumn('archived_on')
    .dropColumn('direct_key')
    .execute()
}
