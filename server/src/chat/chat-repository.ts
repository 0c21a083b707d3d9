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

/** A message to store: its author, the client's own id for it, its text. */
export interface NewMessage {
  author: ChatUser
  clientId: string
  text: string
}

/** A message as stored; `created: false` when its client id had been stored before (a re-send). */
export interface StoredMessage {
  message: ChatMessage
  created: boolean
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
export type ChatStore = Pick<ChatRepository, 'findRoom' | 'insertMessages' | 'messagesAfter' | 'historyPage'>

/** The only module that reads or writes `rooms` and `messages`. */
export class ChatRepository {
  constructor(private readonly db: Db) {}

  async findRoom(name: string): Promise<Room | undefined> {
    const row = await this.db
      .selectFrom('rooms')
      .select(['id', 'name', 'last_seq'])
      .where('name', '=', name)
      .executeTakeFirst()
    return row && { id: String(row.id), name: row.name, lastSeq: Number(row.last_seq) }
  }

  /**
   * Stores a batch of one room's messages in one statement (group commit): the room row is locked once
   * and the new messages take consecutive `seq` values, in batch order. A message whose author already
   * sent one with its client id is not stored again: that one comes back, with `created: false`. Answers
   * in batch order, one per message.
   */
  async insertMessages(room: Room, batch: readonly NewMessage[]): Promise<StoredMessage[]> {
    const results: (StoredMessage | undefined)[] = new Array(batch.length)
    let missing = batch.map((_, index) => index)
    for (let attempt = 0; attempt < 2 && missing.length > 0; attempt++) {
      const rows = await this.insertOnce(
        room,
        missing.map((index) => batch[index]!),
      )
      for (const row of rows) {
        const index = missing[row.ord]!
        const author = batch[index]!.author
        results[index] = {
          message: toMessage(row.room_name, {
            ...row,
            user_id: author.id,
            name: author.name,
            verified: author.verified,
          }),
          created: row.created,
        }
      }
      // left out only when its client id is twice in the batch, or raced in from another connection and
      // won: the next attempt finds the stored one
      missing = missing.filter((index) => results[index] === undefined)
    }
    if (missing.length > 0) throw new Error('message neither stored nor found')
    return results as StoredMessage[]
  }

  /**
   * One statement: the batch as a JSON parameter (one parameter however long the batch, on pg and PGlite
   * alike); `existing` finds client ids stored before; `fresh` keeps the first of each client id still
   * new and numbers them; one update of the room row takes the seq range; the insert fills it.
   */
  private async insertOnce(room: Room, batch: readonly NewMessage[]) {
    const input = JSON.stringify(
      batch.map((message, ord) => ({
        ord,
        user_id: message.author.id,
        client_id: message.clientId,
        body: message.text,
      })),
    )
    const { rows } = await sql<MessageRow & { ord: number; created: boolean; room_name: string }>`
      with input as (
        select * from json_to_recordset(${input}::json) as t(ord int, user_id bigint, client_id text, body text)
      ), existing as (
        select i.ord, m.id, m.seq, m.client_id, m.body, m.created_on, r.name as room_name
        from input i
        join messages m on m.user_id = i.user_id and m.client_id = i.client_id
        join rooms r on r.id = m.room_id
      ), fresh as (
        select f.*, row_number() over (order by f.ord) as n, count(*) over () as total
        from (
          select distinct on (i.user_id, i.client_id) i.*
          from input i
          where not exists (select 1 from existing e where e.ord = i.ord)
          order by i.user_id, i.client_id, i.ord
        ) f
      ), next as (
        update rooms set last_seq = last_seq + (select count(*) from fresh)
        where id = ${room.id} and exists (select 1 from fresh)
        returning last_seq
      ), inserted as (
        insert into messages (room_id, seq, user_id, client_id, body)
        select ${room.id}, next.last_seq - fresh.total + fresh.n, fresh.user_id, fresh.client_id, fresh.body
        from fresh cross join next
        order by fresh.n
        on conflict (user_id, client_id) do nothing
        returning id, seq, user_id, client_id, body, created_on
      )
      select fresh.ord, inserted.id, inserted.seq, inserted.client_id, inserted.body, inserted.created_on,
        ${room.name} as room_name, true as created
      from inserted join fresh on fresh.user_id = inserted.user_id and fresh.client_id = inserted.client_id
      union all
      select ord, id, seq, client_id, body, created_on, room_name, false as created from existing
    `.execute(this.db)
    return rows
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
