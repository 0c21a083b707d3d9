import {
  REPLY_EXCERPT_CHARS,
  type ChatMessage,
  type ChatUser,
  type MessageEdit,
  type MessageUpdate,
  type Reaction,
} from '@chat/contract'
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../db/database.ts'
import { AnnouncementFailed } from './chat-problem.ts'

/** One page of a room, oldest first; see the `history` frame in the contract. */
export interface HistoryPage {
  messages: ChatMessage[]
  /** edits, deletions and reaction changes in the page's range: only on pages read forward */
  updates: MessageUpdate[]
  /** no message or event after the last one (or after the cursor, when the page is empty) */
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

/** A message to store: its author, the client's own id for it, its text, what it answers and mentions. */
export interface NewMessage {
  author: ChatUser
  clientId: string
  text: string
  replyTo?: number
  /** user ids the client says the text mentions: kept only when the text names them */
  mentions?: readonly string[]
}

/** A message as stored; `created: false` when its client id had been stored before (a re-send). */
export interface StoredMessage {
  message: ChatMessage
  created: boolean
}

/** One entry of a room's ordered log: a message, or an event about an earlier one. */
export type LogEntry = { message: ChatMessage } | { update: MessageUpdate }
export const entrySeq = (entry: LogEntry) => ('message' in entry ? entry.message.seq : entry.update.seq)

/** Why a change to a message was refused; undefined when it was made. */
export type ChangeRefusal = 'unknown_message' | 'forbidden' | 'archived'
/** A change made (its log event) or refused; `update: undefined` when it changed nothing (a repeat). */
export type ChangeOutcome =
  { refused: ChangeRefusal } | { refused?: undefined; update: MessageUpdate | undefined }

interface MessageRow {
  id: string | number | bigint
  seq: string | number | bigint
  user_id: string | number | bigint
  name: string
  verified: boolean
  client_id: string
  body: string
  created_on: Date
  edited_on: Date | null
  deleted_on: Date | null
  mentions_room: boolean
  reply_seq: string | number | bigint | null
  reply_body: string | null
  reply_deleted: boolean | null
  reply_user_id: string | number | bigint | null
  reply_name: string | null
  reply_verified: boolean | null
  reactions: { emoji: Reaction; id: string; name: string; verified: boolean }[] | string | null
  mentions: string[] | string | null
}

/** What the statement of a change answers (`ChatRepository.change`). */
interface ChangeRow {
  event_seq: string | number | null
  found: boolean
  archived: boolean
  mentions_added: { users: string[]; room: boolean; before: string[] } | string | null
}

/** PGlite and pg both hand json back parsed; a string would be a driver that does not. */
const json = <T>(value: T | string | null): T | null =>
  typeof value === 'string' ? (JSON.parse(value) as T) : value

const toMessage = (room: string, row: MessageRow): ChatMessage => {
  const message: ChatMessage = {
    room,
    seq: Number(row.seq),
    id: String(row.id),
    author: { id: String(row.user_id), name: row.name, verified: row.verified },
    clientId: row.client_id,
    text: row.body,
    at: new Date(row.created_on).toISOString(),
  }
  if (row.edited_on) message.editedAt = new Date(row.edited_on).toISOString()
  if (row.deleted_on) message.deleted = true
  if (row.reply_seq !== null && row.reply_user_id !== null) {
    message.replyTo = {
      seq: Number(row.reply_seq),
      author: { id: String(row.reply_user_id), name: row.reply_name!, verified: row.reply_verified! },
      text: row.reply_body ?? '',
      ...(row.reply_deleted ? { deleted: true as const } : {}),
    }
  }
  const reactions = json(row.reactions)
  if (reactions && reactions.length > 0) {
    const byEmoji = new Map<Reaction, ChatUser[]>()
    for (const { emoji, id, name, verified } of reactions) {
      if (!byEmoji.has(emoji)) byEmoji.set(emoji, [])
      byEmoji.get(emoji)!.push({ id, name, verified })
    }
    message.reactions = [...byEmoji].map(([emoji, users]) => ({ emoji, users }))
  }
  const mentions = json(row.mentions)
  if (mentions && mentions.length > 0) message.mentions = mentions
  if (row.mentions_room) message.mentionsRoom = true
  return message
}

/**
 * A message as it stands, with its reply's quote, reactions and mentions: every read of messages selects
 * this, so a page, a live frame and a resumed event show one message alike. `m` is the messages row.
 */
const MESSAGE_COLUMNS = sql`m.id, m.seq, m.user_id, u.display_name as name, u.confirmed as verified,
  m.client_id, m.body, m.created_on, m.edited_on, m.deleted_on, m.mentions_room,
  p.reply_seq, p.reply_body, p.reply_deleted, p.reply_user_id, p.reply_name, p.reply_verified,
  (select json_agg(json_build_object('emoji', r.emoji, 'id', ru.id::text, 'name', ru.display_name,
      'verified', ru.confirmed) order by r.created_on, r.user_id)
    from message_reactions r join users ru on ru.id = r.user_id where r.message_id = m.id) as reactions,
  (select json_agg(mm.user_id::text order by mm.user_id)
    from message_mentions mm where mm.room_id = m.room_id and mm.seq = m.seq) as mentions`
// The quote is a lateral lookup, one index probe per message shown whatever the planner believes of the
// table's size (a plain join was planned as a scan of the room before statistics existed).
const REPLY_QUOTE = (room: RawBuilder<unknown>, replyTo: RawBuilder<unknown>) => sql`left join lateral (
    select p.seq as reply_seq, left(p.body, ${sql.lit(REPLY_EXCERPT_CHARS)}) as reply_body,
      p.deleted_on is not null as reply_deleted, pu.id as reply_user_id, pu.display_name as reply_name,
      pu.confirmed as reply_verified
    from messages p join users pu on pu.id = p.user_id
    where p.room_id = ${room} and p.seq = ${replyTo}
    -- a limit keeps the planner from flattening the lookup into a join
    limit 1
  ) p on true`
const MESSAGE_JOINS = sql`join users u on u.id = m.user_id ${REPLY_QUOTE(sql`m.room_id`, sql`m.reply_to_seq`)}`

/** Whether the user is the room's owner or a moderator, or the instance admin: may moderate its messages (ASVS 5.0 V8.2.2, checked in the statement that acts). */
const MODERATES = (room: string, user: RawBuilder<unknown> | string) =>
  sql`(exists (select 1 from room_members rm where rm.room_id = ${room} and rm.user_id = ${user}
      and rm.role in ('owner', 'moderator'))
    or exists (select 1 from users a where a.id = ${user} and a.is_admin))`
/** Whether a text's `@room` counts: said by the room's owners or moderators or the instance admin. */
const MENTIONS_ROOM = (
  body: RawBuilder<unknown> | string,
  room: string,
  author: RawBuilder<unknown> | string,
) => sql`((${body})::text ~ '(^|[^[:alnum:]_])@room([^[:alnum:]_]|$)' and ${MODERATES(room, author)})`
/**
 * Who a text may mention by `@name`: the room's members, and the users the client named (`hints`, a json
 * array of ids; a member list may not hold everyone who reads a public room); rows of `id, display_name`.
 */
const MENTIONABLE = (room: string, hints: RawBuilder<unknown>) => sql`
  select u.id, u.display_name from room_members rm join users u on u.id = rm.user_id
  where rm.room_id = ${room}
  union
  select u.id, u.display_name from users u
  where u.id in (select h::bigint from json_array_elements_text(${hints}) as h)
    -- a hint stands for a reader of a public room who is no member; a private room's readers are its
    -- members, and a disabled or deleted account reads nothing (ASVS 5.0 V8.2.2)
    and u.deleted_on is null and not u.disabled
    and exists (select 1 from rooms r where r.id = ${room} and r.kind = 'public')`
/**
 * Whether the text names that display name after an `@`, in any case, as a whole name: `@Bobby` names
 * no "Bob" (the SPA's `mentionsUser` draws the same line). The name is matched literally: its regex
 * characters are escaped.
 */
const NAMES = (body: RawBuilder<unknown> | string, name: RawBuilder<unknown>) =>
  sql`(strpos(lower((${body})::text), '@' || lower(${name})) > 0
    and lower((${body})::text) ~ ('@' || regexp_replace(lower(${name}), ${REGEX_SPECIAL}, ${ESCAPED}, 'g')
      || '([^[:alnum:]_]|$)'))`
/** what `NAMES` escapes in a name (a backslash before a character that is no letter makes it literal) */
const REGEX_SPECIAL = '([^[:alnum:][:space:]])'
const ESCAPED = '\\\\\\1'

/** What the chat domain asks of storage: the repository, or an in-memory fake in unit tests. */
export type ChatStore = Pick<ChatRepository, 'findRoom' | 'insertMessages' | 'logAfter' | 'historyPage'>
/** Changes to stored messages: the repository only (the unit tests' fake keeps to sending and reading). */
export type MessageChangeStore = Pick<
  ChatRepository,
  'editMessage' | 'deleteMessage' | 'react' | 'editHistory'
>

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
   * new and numbers them; one update of the room row takes the seq range; the insert fills it, keeping a
   * reply only to a message of this room and `@room` only from its owners, moderators or the instance
   * admin; `mentioned` stores whom the text names as `@name`: the room's members, and the users the
   * client named (a member list may not hold everyone who reads a public room).
   */
  private async insertOnce(room: Room, batch: readonly NewMessage[]) {
    const input = JSON.stringify(
      batch.map((message, ord) => ({
        ord,
        user_id: message.author.id,
        client_id: message.clientId,
        body: message.text,
        reply_to: message.replyTo ?? null,
        hints: message.mentions ?? [],
      })),
    )
    const { rows } = await sql<
      Omit<MessageRow, 'name' | 'verified'> & { ord: number; created: boolean; room_name: string }
    >`
      with input as (
        select * from json_to_recordset(${input}::json)
          as t(ord int, user_id bigint, client_id text, body text, reply_to bigint, hints json)
      ), existing as (
        select i.ord, m.id, m.seq, m.client_id, m.room_id
        from input i
        join messages m on m.user_id = i.user_id and m.client_id = i.client_id
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
        insert into messages (room_id, seq, user_id, client_id, body, reply_to_seq, mentions_room)
        select ${room.id}, next.last_seq - fresh.total + fresh.n, fresh.user_id, fresh.client_id, fresh.body,
          (select p.seq from messages p where p.room_id = ${room.id} and p.seq = fresh.reply_to),
          ${MENTIONS_ROOM(sql`fresh.body`, room.id, sql`fresh.user_id`)}
        from fresh cross join next
        order by fresh.n
        on conflict (user_id, client_id) do nothing
        returning id, seq, user_id, client_id, body, created_on, reply_to_seq, mentions_room
      ), mentioned as (
        insert into message_mentions (room_id, seq, user_id)
        select distinct ${room.id}::bigint, i.seq, c.id
        from inserted i
        join fresh f on f.user_id = i.user_id and f.client_id = i.client_id
        cross join lateral (${MENTIONABLE(room.id, sql`f.hints`)}) c
        where strpos(i.body, '@') > 0 and c.id <> i.user_id and ${NAMES(sql`i.body`, sql`c.display_name`)}
        returning seq, user_id
      ), shown as (
        select fresh.ord, inserted.*, true as created
        from inserted join fresh on fresh.user_id = inserted.user_id and fresh.client_id = inserted.client_id
        union all
        select e.ord, m.id, m.seq, m.user_id, m.client_id, m.body, m.created_on, m.reply_to_seq, m.mentions_room,
          false as created
        from existing e join messages m on m.id = e.id
      )
      select s.ord, s.id, s.seq, s.client_id, s.body, s.created_on, s.created, s.mentions_room,
        ${room.name} as room_name, null::timestamptz as edited_on, null::timestamptz as deleted_on,
        p.*, null::json as reactions,
        (select json_agg(mm.user_id::text order by mm.user_id) from mentioned mm where mm.seq = s.seq) as mentions
      from shown s
      ${REPLY_QUOTE(sql`${room.id}::bigint`, sql`s.reply_to_seq`)}
    `.execute(this.db)
    return rows
  }

  /**
   * The log entries with `after < seq <= upTo`, oldest first, at most `limit`: messages as they stand, and
   * the events about earlier ones, each with its message as it stands now.
   */
  async logAfter(room: Room, after: number, limit: number, upTo?: number): Promise<LogEntry[]> {
    const bound = upTo === undefined ? sql`` : sql`and m.seq <= ${upTo}`
    const messages = await this.readMessages(
      room,
      sql`m.seq > ${after} ${bound} order by m.seq asc limit ${limit}`,
    )
    const updates = await this.updatesAfter(room, after, limit, upTo)
    return [...messages.map((message) => ({ message })), ...updates.map((update) => ({ update }))]
      .sort((x, y) => entrySeq(x) - entrySeq(y))
      .slice(0, limit)
  }

  /**
   * At most `limit` messages next to the cursor, and whether more lie beyond them on either side. One row
   * more than asked tells whether the page was full; one `exists` probe looks at the other side. A page
   * read forward holds the events of its range too (a resume must replay them); a page read backward
   * shows messages as they stand, which the events up to now are already part of.
   */
  async historyPage(room: Room, cursor: HistoryCursor, limit: number): Promise<HistoryPage> {
    if ('after' in cursor) {
      const entries = await this.logAfter(room, cursor.after, limit + 1)
      const page = entries.slice(0, limit)
      return {
        messages: page.flatMap((entry) => ('message' in entry ? [entry.message] : [])),
        updates: page.flatMap((entry) => ('update' in entry ? [entry.update] : [])),
        done: entries.length <= limit,
        hasOlder: await this.anyMessage(room, '<=', cursor.after),
      }
    }
    const before = cursor.before === undefined ? sql`` : sql`and m.seq < ${cursor.before}`
    const rows = await this.readMessages(room, sql`true ${before} order by m.seq desc limit ${limit + 1}`)
    const messages = rows.slice(0, limit).reverse()
    const lastShown = messages.at(-1)?.seq ?? (cursor.before === undefined ? undefined : cursor.before - 1)
    const done = lastShown === undefined || !(await this.anyEntryAfter(room, lastShown))
    return { messages, updates: [], done, hasOlder: rows.length > limit }
  }

  /** The messages of the room with these `seq`s, as they stand, in `seq` order. */
  async messagesBySeq(room: Room, seqs: readonly number[]): Promise<ChatMessage[]> {
    if (seqs.length === 0) return []
    return this.readMessages(room, sql`m.seq in (${sql.join([...new Set(seqs)])}) order by m.seq`)
  }

  /**
   * The author's new text, in one statement: the message row is changed (locked, and checked again
   * once the lock is had, so an edit racing a deletion finds it deleted), its previous text kept, and
   * the edit takes the room's next `seq`. Only the author edits, and nothing in an archived room. Who it
   * mentions follows the new text in the same statement, as at insert: `@name`s of members, of the users
   * `hints` names and of those it mentioned already; `@room` only from an owner, moderator or the admin.
   * The update says who is newly mentioned (`mentionsAdded`, `mentionsRoomAdded`), for live notices.
   */
  async editMessage(
    room: Room,
    seq: number,
    user: ChatUser,
    text: string,
    hints: readonly string[] = [],
  ): Promise<ChangeOutcome> {
    return this.change(
      room,
      seq,
      user,
      'edit',
      sql`
      target as (
        select m.id, m.body, m.mentions_room from messages m where m.room_id = ${room.id} and m.seq = ${seq}
      ),
      changed as (
        update messages m set body = ${text}, edited_on = now(),
          mentions_room = ${MENTIONS_ROOM(text, room.id, user.id)}
        where m.room_id = ${room.id} and m.seq = ${seq} and m.user_id = ${user.id} and m.deleted_on is null
          and not exists (select 1 from rooms r where r.id = ${room.id} and r.archived_on is not null)
        returning m.id, m.mentions_room
      ),
      kept as (
        insert into message_edits (message_id, previous_body)
        select t.id, t.body from target t join changed c on c.id = t.id
      ),
      named as (
        select c.id from (
          ${MENTIONABLE(room.id, sql`${JSON.stringify(hints)}::json`)}
          union
          select u.id, u.display_name from message_mentions mm join users u on u.id = mm.user_id
          where mm.room_id = ${room.id} and mm.seq = ${seq}
        ) c
        -- no '@', no name: a constant, so a typo fix costs no scan of the room's members
        where strpos(${text}, '@') > 0 and exists (select 1 from changed) and c.id <> ${user.id}
          and ${NAMES(text, sql`c.display_name`)}
      ),
      unnamed as (
        delete from message_mentions mm
        where mm.room_id = ${room.id} and mm.seq = ${seq} and exists (select 1 from changed)
          and mm.user_id not in (select id from named)
      ),
      added as (
        insert into message_mentions (room_id, seq, user_id)
        select ${room.id}::bigint, ${seq}::bigint, n.id from named n
        where not exists (
          select 1 from message_mentions mm where mm.room_id = ${room.id} and mm.seq = ${seq} and mm.user_id = n.id
        )
        on conflict do nothing
        returning user_id
      )`,
      // with an @room before, everyone was mentioned already; with one now, `room` says everyone is newly,
      // but for those the message named before (`before`, read from the statement's snapshot: the mentions
      // as they were), who were told already
      sql`json_build_object(
        'users', (select coalesce(json_agg(a.user_id::text order by a.user_id), '[]'::json) from added a
          where not (select t.mentions_room from target t)
            and not coalesce((select c.mentions_room from changed c), false)),
        'room', coalesce((select c.mentions_room and not t.mentions_room from changed c, target t), false),
        'before', (select coalesce(json_agg(mm.user_id::text order by mm.user_id), '[]'::json)
          from message_mentions mm where mm.room_id = ${room.id} and mm.seq = ${seq}))`,
      // the message row first: the statement's snapshot is then taken after any edit before it committed,
      // so its mentions and kept text are those of that edit, not of the text before both
      true,
    )
  }

  /**
   * A tombstone, in one statement: the text, earlier texts, reactions and mentions go, and the deletion
   * takes the room's next `seq`. The author deletes their own; the room's owners and moderators and the
   * instance admin anyone's: the role is checked in the statement itself (ASVS 5.0 V8.2.1 function-level
   * and V8.2.2 data-specific access control, enforced at the data layer), so no read can go stale.
   */
  async deleteMessage(room: Room, seq: number, user: ChatUser): Promise<ChangeOutcome> {
    return this.change(
      room,
      seq,
      user,
      'delete',
      sql`
      changed as (
        update messages m set body = '', deleted_on = now()
        where m.room_id = ${room.id} and m.seq = ${seq} and m.deleted_on is null
          and not exists (select 1 from rooms r where r.id = ${room.id} and r.archived_on is not null)
          and (m.user_id = ${user.id} or ${MODERATES(room.id, user.id)})
        returning m.id
      ),
      wiped as (delete from message_edits where message_id in (select id from changed)),
      unreacted as (delete from message_reactions where message_id in (select id from changed)),
      unmentioned as (
        delete from message_mentions
        where room_id = ${room.id} and seq = ${seq} and exists (select 1 from changed)
      )`,
    )
  }

  /** Adds or takes back a reaction; a change takes the room's next `seq`, a repeat changes nothing. */
  async react(room: Room, seq: number, user: ChatUser, emoji: Reaction, on: boolean): Promise<ChangeOutcome> {
    return this.change(
      room,
      seq,
      user,
      'reaction',
      sql`
      target as (
        select m.id from messages m
        where m.room_id = ${room.id} and m.seq = ${seq} and m.deleted_on is null
          and not exists (select 1 from rooms r where r.id = ${room.id} and r.archived_on is not null)
      ),
      added as (
        insert into message_reactions (message_id, user_id, emoji)
        select id, ${user.id}, ${emoji} from target where ${on}
        on conflict do nothing
        returning message_id as id
      ),
      removed as (
        delete from message_reactions
        where not ${on} and message_id in (select id from target) and user_id = ${user.id} and emoji = ${emoji}
        returning message_id as id
      ),
      changed as (select id from added union all select id from removed)`,
    )
  }

  /**
   * The earlier texts of a message, oldest first; undefined when the user may not read them: only the
   * room's owners and moderators and the instance admin may (ASVS 5.0 V8.2.2), checked in the statement.
   */
  async editHistory(room: Room, seq: number, user: ChatUser): Promise<MessageEdit[] | undefined> {
    const { rows } = await sql<{ allowed: boolean; text: string | null; at: Date | null }>`
      with allowed as (select ${MODERATES(room.id, user.id)} as allowed)
      select a.allowed, e.previous_body as text, e.edited_on as at
      from allowed a
      left join messages m on a.allowed and m.room_id = ${room.id} and m.seq = ${seq}
      left join message_edits e on e.message_id = m.id
      order by e.edited_on, e.id
    `.execute(this.db)
    if (!rows[0]?.allowed) return undefined
    return rows.flatMap((row) =>
      row.text === null || row.at === null ? [] : [{ text: row.text, at: new Date(row.at).toISOString() }],
    )
  }

  /**
   * A change to message `seq` (`changes`: CTEs ending in `changed`, the ids of the messages changed) and,
   * when something changed, its event in the log, all in one statement: the room row is locked to take
   * the next `seq` only once the message row is changed. When nothing changed the same statement says
   * why, from what it saw: no such message, an archived room, or no right to it.
   */
  private async change(
    room: Room,
    seq: number,
    user: ChatUser,
    kind: 'edit' | 'delete' | 'reaction',
    changes: RawBuilder<unknown>,
    /** an edit's newly mentioned, from its CTEs: `{users: [ids], room: boolean, before: [ids]}` */
    mentionsAdded: RawBuilder<unknown> = sql`null::json`,
    /** lock the message row before the statement, in its transaction (READ COMMITTED) */
    lockFirst = false,
  ): Promise<ChangeOutcome> {
    const statement = async (db: Db): Promise<ChangeRow> => {
      const { rows } = await sql<ChangeRow>`
      with ${changes},
      next as (
        update rooms set last_seq = last_seq + 1
        where id = ${room.id} and exists (select 1 from changed)
        returning last_seq
      ),
      logged as (
        insert into room_events (room_id, seq, kind, target_seq, user_id)
        select ${room.id}::bigint, last_seq, ${kind}, ${seq}::bigint, ${user.id}::bigint from next
      )
      select (select last_seq from next) as event_seq,
        exists (select 1 from messages m where m.room_id = ${room.id} and m.seq = ${seq} and m.deleted_on is null)
          as found,
        exists (select 1 from rooms r where r.id = ${room.id} and r.archived_on is not null) as archived,
        ${mentionsAdded} as mentions_added
    `.execute(db)
      return rows[0]!
    }
    const row = lockFirst
      ? await this.db.transaction().execute(async (trx) => {
          await sql`select 1 from messages where room_id = ${room.id} and seq = ${seq} for update`.execute(
            trx,
          )
          return statement(trx)
        })
      : await statement(this.db)
    if (row.event_seq === null) {
      if (!row.found) return { refused: 'unknown_message' }
      if (row.archived) return { refused: 'archived' }
      // a reaction already there (or already gone) changes nothing; anything else was not allowed
      return kind === 'reaction' ? { update: undefined } : { refused: 'forbidden' }
    }
    try {
      return { update: await this.updateOf(room, seq, user, kind, row) }
    } catch (error) {
      // the change is committed: whatever fails now, the client must hear it is saved, not to do it again
      throw new AnnouncementFailed(error)
    }
  }

  /** The live update of a committed change, the message read as it now stands. */
  private async updateOf(
    room: Room,
    seq: number,
    user: ChatUser,
    kind: 'edit' | 'delete' | 'reaction',
    row: ChangeRow,
  ): Promise<MessageUpdate> {
    const [message] = await this.messagesBySeq(room, [seq])
    const change = kind === 'edit' ? 'edited' : kind === 'delete' ? 'deleted' : 'reactions'
    const update: MessageUpdate = {
      room: room.name,
      seq: Number(row.event_seq),
      change,
      by: user,
      message: message!,
    }
    const added = json(row.mentions_added)
    if (added && added.users.length > 0) update.mentionsAdded = added.users
    if (added?.room) {
      update.mentionsRoomAdded = true
      if (added.before.length > 0) update.mentionedBefore = added.before
    }
    return update
  }

  /** The events with `after < seq <= upTo`, oldest first, each with its message as it stands. */
  private async updatesAfter(
    room: Room,
    after: number,
    limit: number,
    upTo?: number,
  ): Promise<MessageUpdate[]> {
    let query = this.db
      .selectFrom('room_events as e')
      .innerJoin('users as u', 'u.id', 'e.user_id')
      .select(['e.seq', 'e.kind', 'e.target_seq', 'e.user_id', 'u.display_name', 'u.confirmed'])
      .where('e.room_id', '=', room.id)
      .where('e.seq', '>', String(after))
    if (upTo !== undefined) query = query.where('e.seq', '<=', String(upTo))
    const events = await query.orderBy('e.seq', 'asc').limit(limit).execute()
    const targets = await this.messagesBySeq(
      room,
      events.map((event) => Number(event.target_seq)),
    )
    const bySeq = new Map(targets.map((message) => [message.seq, message]))
    return events.map((event) => ({
      room: room.name,
      seq: Number(event.seq),
      change: event.kind === 'edit' ? 'edited' : event.kind === 'delete' ? 'deleted' : 'reactions',
      by: { id: String(event.user_id), name: event.display_name, verified: event.confirmed },
      message: bySeq.get(Number(event.target_seq))!,
    }))
  }

  private readMessages(room: Room, rest: RawBuilder<unknown>): Promise<ChatMessage[]> {
    return sql<MessageRow>`select ${MESSAGE_COLUMNS} from messages m ${MESSAGE_JOINS}
      where m.room_id = ${room.id} and ${rest}`
      .execute(this.db)
      .then(({ rows }) => rows.map((row) => toMessage(room.name, row)))
  }

  /** Whether the room has a message with a `seq` at or below `seq`. */
  private async anyMessage(room: Room, side: '<=', seq: number): Promise<boolean> {
    if (seq <= 0) return false
    const row = await this.db
      .selectFrom('messages')
      .select('id')
      .where('room_id', '=', room.id)
      .where('seq', side, String(seq))
      .limit(1)
      .executeTakeFirst()
    return row !== undefined
  }

  /** Whether the room's log has a message or an event after `seq`. */
  private async anyEntryAfter(room: Room, seq: number): Promise<boolean> {
    const { rows } = await sql<{ any: boolean }>`
      select exists (select 1 from messages where room_id = ${room.id} and seq > ${seq})
        or exists (select 1 from room_events where room_id = ${room.id} and seq > ${seq}) as any
    `.execute(this.db)
    return rows[0]!.any
  }
}
