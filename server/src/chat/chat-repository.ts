import type { ChatMessage, ChatUser } from '@chat/contract'
import { sql } from 'kysely'
import type { Db } from '../db/database.ts'

/** One page of a room, oldest first; see the `history` frame in the contract. */
export interface HistoryPage {
  messages: ChatMessage[]
  /** no message after the last one (or after the cursor, when the page is empty) */
  done: boolean
  /** messages exist before the first one (or before the cursor) */
  hasOlder: boolean
}

/** Where a page starts: right after `after`, or ending right before `before`; neither: the newest page. */
export type HistoryCursor = { after: number } | { before?: number }

export interface Room {
  id: string
  name: string
  lastSeq: number
}

interface MessageRow {
  id: string | number | bigint
  seq: string | number | bigint
  user_id: string | number | bigint
  name: string
  verified: boolean
  client_id: string
  body: string
  created_on: Date
}

const toMessage = (room: string, row: MessageRow): ChatMessage => ({
  room,
  seq: Number(row.seq),
  id: String(row.id),
  author: { id: String(row.user_id), name: row.name, verified: row.verified },
  clientId: row.client_id,
  text: row.body,
  at: new Date(row.created_on).toISOString(),
})

/** What the chat domain asks of storage: the repository, or an in-memory fake in unit tests. */
export type ChatStore = Pick<
  ChatRepository,
  'roomNames' | 'findRoom' | 'createRoom' | 'insertMessage' | 'messagesAfter' | 'historyPage'
>

/** The only module that reads or writes `rooms` and `messages`. */
export class ChatRepository {
  constructor(private readonly db: Db) {}

  async roomNames(): Promise<string[]> {
    const rows = await this.db.selectFrom('rooms').select('name').orderBy('name').execute()
    return rows.map((row) => row.name)
  }

  async findRoom(name: string): Promise<Room | undefined> {
    const row = await this.db
      .selectFrom('rooms')
      .select(['id', 'name', 'last_seq'])
      .where('name', '=', name)
      .executeTakeFirst()
    return row && { id: String(row.id), name: row.name, lastSeq: Number(row.last_seq) }
  }

  /** false when a room of that name exists already */
  async createRoom(name: string, createdBy: string): Promise<boolean> {
    const row = await this.db
      .insertInto('rooms')
      .values({ name, created_by: createdBy })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .returning('id')
      .executeTakeFirst()
    return row !== undefined
  }

  /**
   * Stores a message under the room's next `seq`, unless this user already sent one with this client id:
   * then that one comes back, with `created: false`. One statement, so the room lock lasts one round trip.
   */
  async insertMessage(
    room: Room,
    author: ChatUser,
    clientId: string,
    text: string,
  ): Promise<{ message: ChatMessage; created: boolean }> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const { rows } = await sql<MessageRow & { created: boolean; room_name: string }>`
        with existing as (
          select m.id, m.seq, m.client_id, m.body, m.created_on, r.name as room_name
          from messages m join rooms r on r.id = m.room_id
          where m.user_id = ${author.id} and m.client_id = ${clientId}
        ), next as (
          update rooms set last_seq = last_seq + 1
          where id = ${room.id} and not exists (select 1 from existing)
          returning last_seq
        ), inserted as (
          insert into messages (room_id, seq, user_id, client_id, body)
          select ${room.id}, last_seq, ${author.id}, ${clientId}, ${text} from next
          on conflict (user_id, client_id) do nothing
          returning id, seq, client_id, body, created_on
        )
        select id, seq, client_id, body, created_on, ${room.name} as room_name, true as created from inserted
        union all
        select id, seq, client_id, body, created_on, room_name, false as created from existing
      `.execute(this.db)
      const row = rows[0]
      // empty only when the same client id raced in from another connection and won: read its row next time
      if (row) {
        return {
          message: toMessage(row.room_name, {
            ...row,
            user_id: author.id,
            name: author.name,
            verified: author.verified,
          }),
          created: row.created,
        }
      }
    }
    throw new Error('message neither stored nor found')
  }

  /** Messages with `after < seq <= upTo`, oldest first, at most `limit`. */
  async messagesAfter(room: Room, after: number, limit: number, upTo?: number): Promise<ChatMessage[]> {
    let query = this.messages(room).where('m.seq', '>', String(after))
    if (upTo !== undefined) query = query.where('m.seq', '<=', String(upTo))
    const rows = await query.orderBy('m.seq', 'asc').limit(limit).execute()
    return rows.map((row) => toMessage(room.name, row))
  }

  /**
   * At most `limit` messages next to the cursor, and whether more lie beyond them on either side. One row
   * more than asked tells whether the page was full; one `exists` probe looks at the other side.
   */
  async historyPage(room: Room, cursor: HistoryCursor, limit: number): Promise<HistoryPage> {
    if ('after' in cursor) {
      const rows = await this.messages(room)
        .where('m.seq', '>', String(cursor.after))
        .orderBy('m.seq', 'asc')
        .limit(limit + 1)
        .execute()
      const messages = rows.slice(0, limit).map((row) => toMessage(room.name, row))
      return {
        messages,
        done: rows.length <= limit,
        hasOlder: await this.anyMessage(room, '<=', cursor.after),
      }
    }
    let query = this.messages(room)
    if (cursor.before !== undefined) query = query.where('m.seq', '<', String(cursor.before))
    const rows = await query
      .orderBy('m.seq', 'desc')
      .limit(limit + 1)
      .execute()
    const messages = rows
      .slice(0, limit)
      .reverse()
      .map((row) => toMessage(room.name, row))
    const lastShown = messages.at(-1)?.seq ?? (cursor.before === undefined ? undefined : cursor.before - 1)
    const done = lastShown === undefined || !(await this.anyMessage(room, '>', lastShown))
    return { messages, done, hasOlder: rows.length > limit }
  }

  /** Whether the room has a message with a `seq` on that side of `seq`. */
  private async anyMessage(room: Room, side: '<=' | '>', seq: number): Promise<boolean> {
    if (side === '<=' && seq <= 0) return false
    const row = await this.db
      .selectFrom('messages')
      .select('id')
      .where('room_id', '=', room.id)
      .where('seq', side, String(seq))
      .limit(1)
      .executeTakeFirst()
    return row !== undefined
  }

  private messages(room: Room) {
    return this.db
      .selectFrom('messages as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.id', 'm.seq', 'm.user_id', 'm.client_id', 'm.body', 'm.created_on'])
      .select(['u.display_name as name', 'u.confirmed as verified'])
      .where('m.room_id', '=', room.id)
  }
}
