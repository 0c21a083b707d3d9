import { SEARCH_MATCHES_MAX } from '@chat/contract'
import { sql } from 'kysely'
import type { Db } from '../db/database.ts'

/** What to look for, already checked: the words as typed, and the filters that were given. */
export interface SearchCriteria {
  /** the searcher: only rooms they are a member of are searched */
  userId: string
  text: string
  room?: string
  author?: string
  from?: Date
  to?: Date
  offset: number
  limit: number
}

/** A hit as stored; its `headline` is the whole text with each match between MATCH_START and MATCH_END. */
export interface SearchHit {
  id: string
  seq: number
  roomName: string
  roomTitle: string
  author: { id: string; name: string; verified: boolean }
  at: Date
  headline: string
}

/**
 * The marks ts_headline puts around a match: control characters that message text cannot hold
 * (MESSAGE_TEXT_PATTERN), so no text a user wrote is ever taken for one.
 */
export const MATCH_START = '\u0002'
export const MATCH_END = '\u0003'

/** The only module that searches `messages`. */
export class SearchRepository {
  constructor(private readonly db: Db) {}

  /**
   * One page of hits (and one more, if there is one, for the caller to tell whether more follow). Two
   * statements. The first reads the searcher's rooms and turns the words into a tsquery of the 'simple'
   * configuration (that of `messages.search`): every word must be there, a word of 3 or more characters
   * matches words it begins (in place of stemming, which 'simple' has not), and each lexeme is quoted, so
   * nothing typed is read as a tsquery operator. The second gets both as constants, so the planner sees
   * how common each word is and which rooms: a rare word goes through the GIN index, a word in most
   * messages through the newest messages backwards. It takes the newest SEARCH_MATCHES_MAX matches and
   * ranks them: ts_rank, normalised by the message's length (a long message is not ahead for its length
   * alone), then newest first.
   */
  async search(criteria: SearchCriteria): Promise<SearchHit[]> {
    const { userId, text, room, author, from, to, offset, limit } = criteria
    // ASVS 5.0 V8.2.2 (data-specific access): only rooms the searcher is a member of, read from
    // room_members for this search, so no filter and no page can reach another room's messages
    const scope = await sql<{ query: string; rooms: (string | number | bigint)[] | null }>`
      select
        coalesce((
          select string_agg(quote_literal(lexeme) || case when length(lexeme) >= 3 then ':*' else '' end, ' & ')
          from unnest(to_tsvector('simple', ${text}))
        ), '') as query,
        array(
          select rm.room_id from room_members rm
          ${room === undefined ? sql`` : sql`join rooms r on r.id = rm.room_id and r.name = ${room}`}
          where rm.user_id = ${userId}
        ) as rooms
    `.execute(this.db)
    const { query, rooms } = scope.rows[0]!
    if (query === '' || !rooms || rooms.length === 0) return []
    const roomIds = rooms.map(String)
    const rows = await sql<{
      id: string | number | bigint
      seq: string | number | bigint
      room_name: string
      room_title: string
      user_id: string | number | bigint
      name: string
      verified: boolean
      created_on: Date
      headline: string
    }>`
      with matches as (
        select m.id, m.search, m.created_on
        from messages m
        where m.search @@ to_tsquery('simple', ${query})
          and m.room_id = any(${roomIds}::bigint[])
          ${
            author === undefined
              ? sql``
              : sql`and m.user_id in (select u.id from users u where lower(u.display_name) = lower(${author}))`
          }
          ${from === undefined ? sql`` : sql`and m.created_on >= ${from}`}
          ${to === undefined ? sql`` : sql`and m.created_on < ${to}`}
        order by m.created_on desc, m.id desc
        limit ${SEARCH_MATCHES_MAX}
      ), hits as (
        select id, created_on, ts_rank(search, to_tsquery('simple', ${query}), 1) as rank
        from matches
        order by rank desc, created_on desc, id desc
        offset ${offset}
        limit ${limit + 1}
      )
      select m.id, m.seq, r.name as room_name, r.title as room_title, m.user_id, u.display_name as name,
        u.confirmed as verified, m.created_on,
        ts_headline('simple', m.body, to_tsquery('simple', ${query}),
          'HighlightAll=true, StartSel=' || chr(2) || ', StopSel=' || chr(3)) as headline
      from hits
      join messages m on m.id = hits.id
      join rooms r on r.id = m.room_id
      join users u on u.id = m.user_id
      order by hits.rank desc, hits.created_on desc, hits.id desc
    `.execute(this.db)
    return rows.rows.map((row) => ({
      id: String(row.id),
      seq: Number(row.seq),
      roomName: row.room_name,
      roomTitle: row.room_title,
      author: { id: String(row.user_id), name: row.name, verified: row.verified },
      at: new Date(row.created_on),
      headline: row.headline,
    }))
  }
}
