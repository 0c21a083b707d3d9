import {
  DIRECT_ROOM_PREFIX,
  FIND_USERS_MAX,
  MEMBER_MATCHES_MAX,
  UNREAD_COUNT_MAX,
  type ChatUser,
  type RoomKind,
  type RoomMemberEntry,
  type RoomRole,
} from '@chat/contract'
import { sql } from 'kysely'
import { likeLiteral, type Db } from '../db/database.ts'

/** A room as every viewer shares it; a viewer's own part (role, unread, a direct room's title) is apart. */
export interface RoomRecord {
  id: string
  name: string
  kind: RoomKind
  title: string
  topic: string
  archived: boolean
  lastSeq: number
  /** a direct room's two members, so each viewer can be shown the other */
  pair?: [ChatUser, ChatUser]
}

/** One line of a user's room list: the room, and their membership when they have one. */
export interface RoomListing {
  record: RoomRecord
  role: RoomRole | undefined
  lastReadSeq: number | undefined
  unread: number | undefined
  /** messages after the read marker that mention the user by name, or the room (`@room`) */
  mentions?: number
}

export interface RoomChanges {
  title?: string
  topic?: string
  archived?: boolean
}

type Id = string | number | bigint

interface RoomRow {
  id: Id
  name: string
  kind: RoomKind
  title: string
  topic: string
  archived_on: Date | null
  last_seq: Id
  pair: ChatUser[] | string | null
}

const toRecord = (row: RoomRow): RoomRecord => {
  const pair = typeof row.pair === 'string' ? (JSON.parse(row.pair) as ChatUser[]) : row.pair
  return {
    id: String(row.id),
    name: row.name,
    kind: row.kind,
    title: row.title,
    topic: row.topic,
    archived: row.archived_on !== null,
    lastSeq: Number(row.last_seq),
    ...(pair && pair.length === 2 ? { pair: [pair[0]!, pair[1]!] } : {}),
  }
}

/** A direct room's members as JSON, ids as strings, ordered by id: one sub-select in every room query. */
const PAIR = sql<string>`case when r.kind = 'direct' then (
  select json_agg(json_build_object('id', u.id::text, 'name', u.display_name, 'verified', u.confirmed) order by u.id)
  from room_members p join users u on u.id = p.user_id where p.room_id = r.id
) end`

const ROOM_COLUMNS = sql`r.id, r.name, r.kind, r.title, r.topic, r.archived_on, r.last_seq, ${PAIR} as pair`

/** The only module that reads or writes `room_members`, and rooms' kinds, titles and states. */
export class RoomRepository {
  constructor(private readonly db: Db) {}

  /**
   * A user's room list in one query: every room they are a member of, with their role and how many
   * messages by others came after their read marker (counted up to `UNREAD_COUNT_MAX` through the
   * `(room_id, seq)` unique index) and how many of those mention them, and every public room they are not in. `everything`: the instance
   * admin's view, every room.
   */
  async roomList(userId: string, everything: boolean): Promise<RoomListing[]> {
    const { rows } = await sql<
      RoomRow & { role: RoomRole | null; last_read_seq: Id | null; unread: Id | null; mentions: Id | null }
    >`
      select ${ROOM_COLUMNS}, m.role, m.last_read_seq,
        case when m.user_id is null then null else (
          select count(*) from (
            select 1 from messages x
            where x.room_id = r.id and x.seq > m.last_read_seq and x.user_id <> ${userId}
            limit ${UNREAD_COUNT_MAX}
          ) counted
        ) end as unread,
        case when m.user_id is null then null else (
          select count(*) from (
            select mm.seq from message_mentions mm
            where mm.room_id = r.id and mm.user_id = ${userId} and mm.seq > m.last_read_seq
            union
            select x.seq from messages x
            where x.room_id = r.id and x.mentions_room and x.seq > m.last_read_seq and x.user_id <> ${userId}
            limit ${UNREAD_COUNT_MAX}
          ) mentioned
        ) end as mentions
      from rooms r
      left join room_members m on m.room_id = r.id and m.user_id = ${userId}
      where m.user_id is not null or r.kind = 'public' or ${everything}
      order by r.name
    `.execute(this.db)
    return rows.map((row) => ({
      record: toRecord(row),
      role: row.role ?? undefined,
      lastReadSeq: row.last_read_seq === null ? undefined : Number(row.last_read_seq),
      unread: row.unread === null ? undefined : Number(row.unread),
      ...(row.mentions === null ? {} : { mentions: Number(row.mentions) }),
    }))
  }

  /** The room of that name with this user's membership, for a join: undefined when there is no such room. */
  async roomFor(name: string, userId: string): Promise<RoomListing | undefined> {
    const { rows } = await sql<RoomRow & { role: RoomRole | null; last_read_seq: Id | null }>`
      select ${ROOM_COLUMNS}, m.role, m.last_read_seq
      from rooms r left join room_members m on m.room_id = r.id and m.user_id = ${userId}
      where r.name = ${name}
    `.execute(this.db)
    const row = rows[0]
    return (
      row && {
        record: toRecord(row),
        role: row.role ?? undefined,
        lastReadSeq: row.last_read_seq === null ? undefined : Number(row.last_read_seq),
        unread: undefined,
      }
    )
  }

  async roomById(roomId: string): Promise<RoomRecord | undefined> {
    const { rows } = await sql<RoomRow>`select ${ROOM_COLUMNS} from rooms r where r.id = ${roomId}`.execute(
      this.db,
    )
    return rows[0] && toRecord(rows[0])
  }

  /** The room and its owner in one transaction; undefined when the name is taken. */
  async createRoom(
    name: string,
    kind: 'public' | 'private',
    title: string,
    topic: string,
    ownerId: string,
  ): Promise<RoomRecord | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('rooms')
        .values({ name, kind, title, topic, created_by: ownerId })
        .onConflict((conflict) => conflict.column('name').doNothing())
        .returning('id')
        .executeTakeFirst()
      if (!row) return undefined
      await trx
        .insertInto('room_members')
        .values({ room_id: String(row.id), user_id: ownerId, role: 'owner' })
        .execute()
      return { id: String(row.id), name, kind, title, topic, archived: false, lastSeq: 0 }
    })
  }

  /**
   * The direct room of two users, created with both as members the first time: one per pair, through the
   * unique `direct_key`. `created`: this call made it.
   */
  async openDirect(a: ChatUser, b: ChatUser): Promise<{ record: RoomRecord; created: boolean }> {
    const [low, high] = BigInt(a.id) < BigInt(b.id) ? [a.id, b.id] : [b.id, a.id]
    const created = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('rooms')
        .values({
          name: `${DIRECT_ROOM_PREFIX}${low}-${high}`,
          kind: 'direct',
          title: 'direct',
          created_by: a.id,
          direct_key: `${low}:${high}`,
        })
        .onConflict((conflict) => conflict.column('direct_key').doNothing())
        .returning('id')
        .executeTakeFirst()
      if (!row) return false
      await trx
        .insertInto('room_members')
        .values([low, high].map((userId) => ({ room_id: String(row.id), user_id: userId })))
        .execute()
      return true
    })
    const { rows } = await sql<RoomRow>`
      select ${ROOM_COLUMNS} from rooms r where r.direct_key = ${`${low}:${high}`}`.execute(this.db)
    return { record: toRecord(rows[0]!), created }
  }

  /** Adds a member who has read everything so far; false when they were one already. */
  async addMember(roomId: string, userId: string, role: RoomRole = 'member'): Promise<boolean> {
    const { rows } = await sql<{ user_id: Id }>`
      insert into room_members (room_id, user_id, role, last_read_seq)
      select id, ${userId}, ${role}, last_seq from rooms where id = ${roomId}
      on conflict (room_id, user_id) do nothing
      returning user_id`.execute(this.db)
    return rows.length > 0
  }

  /** The removed member's role; undefined when they were none. */
  async removeMember(roomId: string, userId: string): Promise<RoomRole | undefined> {
    const row = await this.db
      .deleteFrom('room_members')
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .returning('role')
      .executeTakeFirst()
    return row?.role
  }

  async roleOf(roomId: string, userId: string): Promise<RoomRole | undefined> {
    const row = await this.db
      .selectFrom('room_members')
      .select('role')
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .executeTakeFirst()
    return row?.role
  }

  /** false when the user is no member */
  async setRole(roomId: string, userId: string, role: RoomRole): Promise<boolean> {
    const result = await this.db
      .updateTable('room_members')
      .set({ role })
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  /**
   * Takes the user out. When they were its last owner, the longest-standing moderator becomes owner, or
   * failing one the longest-standing member: a room never loses its last owner while it has members.
   * Answers the one who took over, if anyone did.
   */
  async leave(roomId: string, userId: string): Promise<{ left: boolean; successor: string | undefined }> {
    return this.db.transaction().execute(async (trx) => {
      // the room row is locked so two owners leaving at once cannot both find the other still there
      await trx.selectFrom('rooms').select('id').where('id', '=', roomId).forUpdate().execute()
      const removed = await trx
        .deleteFrom('room_members')
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .returning('role')
        .executeTakeFirst()
      if (removed?.role !== 'owner') return { left: removed !== undefined, successor: undefined }
      const { rows } = await sql<{ user_id: Id }>`
        update room_members set role = 'owner'
        where room_id = ${roomId} and user_id = (
          select user_id from room_members
          where room_id = ${roomId} and not exists (
            select 1 from room_members o where o.room_id = ${roomId} and o.role = 'owner'
          )
          order by case role when 'moderator' then 0 else 1 end, joined_on, user_id
          limit 1
        )
        returning user_id`.execute(trx)
      return { left: true, successor: rows[0] && String(rows[0].user_id) }
    })
  }

  /**
   * The room's members in the order they joined; with `query`, only those whose display name starts with
   * it (any case), by name, at most `MEMBER_MATCHES_MAX`: one bounded answer however large the room.
   */
  async members(roomId: string, query?: string): Promise<RoomMemberEntry[]> {
    let select = this.db
      .selectFrom('room_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['u.id', 'u.display_name', 'u.confirmed', 'm.role', 'm.joined_on'])
      .where('m.room_id', '=', roomId)
    select =
      query === undefined
        ? select.orderBy('m.joined_on').orderBy('u.id')
        : select
            .where(sql<boolean>`lower(u.display_name) like lower(${prefixPattern(query)})`)
            .orderBy('u.display_name')
            .orderBy('u.id')
            .limit(MEMBER_MATCHES_MAX)
    const rows = await select.execute()
    return rows.map((row) => ({
      user: { id: String(row.id), name: row.display_name, verified: row.confirmed },
      role: row.role,
      joinedAt: new Date(row.joined_on).toISOString(),
    }))
  }

  async updateRoom(roomId: string, changes: RoomChanges): Promise<RoomRecord | undefined> {
    const archived =
      changes.archived === undefined ? {} : { archived_on: changes.archived ? sql<Date>`now()` : null }
    await this.db
      .updateTable('rooms')
      .set({
        ...(changes.title === undefined ? {} : { title: changes.title }),
        ...(changes.topic === undefined ? {} : { topic: changes.topic }),
        ...archived,
      })
      .where('id', '=', roomId)
      .execute()
    return this.roomById(roomId)
  }

  /**
   * Moves the read marker forward to `seq` (never back, never past the room's last message). Answers
   * the marker as it is now; undefined when the user is no member.
   */
  async markRead(roomId: string, userId: string, seq: number): Promise<number | undefined> {
    const { rows } = await sql<{ last_read_seq: Id }>`
      update room_members m set last_read_seq = greatest(m.last_read_seq, least(${seq}, r.last_seq))
      from rooms r
      where r.id = m.room_id and m.room_id = ${roomId} and m.user_id = ${userId}
      returning m.last_read_seq`.execute(this.db)
    return rows[0] && Number(rows[0].last_read_seq)
  }

  /** A user who can be written to or invited: not deleted, not disabled. */
  async findUser(userId: string): Promise<ChatUser | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'display_name', 'confirmed'])
      .where('id', '=', userId)
      .where('deleted_on', 'is', null)
      .where('disabled', '=', false)
      .executeTakeFirst()
    return row && { id: String(row.id), name: row.display_name, verified: row.confirmed }
  }

  /** Users whose display name starts with `prefix`, case-insensitive, at most `FIND_USERS_MAX`. */
  async findUsers(prefix: string): Promise<ChatUser[]> {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'display_name', 'confirmed'])
      .where(sql<boolean>`lower(display_name) like lower(${prefixPattern(prefix)})`)
      .where('deleted_on', 'is', null)
      .where('disabled', '=', false)
      .orderBy('display_name')
      .orderBy('id')
      .limit(FIND_USERS_MAX)
      .execute()
    return rows.map((row) => ({ id: String(row.id), name: row.display_name, verified: row.confirmed }))
  }
}

/** A LIKE pattern for names starting with `prefix`, its own `%`, `_` and `\` taken literally. */
const prefixPattern = (prefix: string) => `${likeLiteral(prefix)}%`
