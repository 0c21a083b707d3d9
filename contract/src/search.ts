import { Type, type Static } from 'typebox'

/** The longest search text taken: a sentence, not a document. */
export const SEARCH_QUERY_MAX_CHARS = 200
/** Results per page: at most this many, `SEARCH_PAGE_DEFAULT` when not asked. */
export const SEARCH_PAGE_MAX = 50
export const SEARCH_PAGE_DEFAULT = 20
/**
 * A search ranks the newest this many matching messages, and pages through them: ranking every match of a
 * word in most messages would cost a read of most of the table (bench: npm run bench -- search). Older
 * matches are reached by narrowing the search (another word, a room, an author, dates); it also bounds
 * what one request can make the database do (ASVS 5.0 V2.4.1 anti-automation).
 */
export const SEARCH_MATCHES_MAX = 500
/** how far one may page: to the end of the ranked matches */
export const SEARCH_OFFSET_MAX = SEARCH_MATCHES_MAX

/**
 * `GET /api/v1.0/search`: messages of the rooms the user is a member of, best match first, newest first
 * among equal matches. Every value is a string (a query string's are; the service reads them, saying
 * in words what is wrong).
 */
export const SearchQuerySchema = Type.Object({
  q: Type.String({
    maxLength: SEARCH_QUERY_MAX_CHARS,
    description:
      'words to find, all of them; a word of 3 or more characters also finds words it begins ("deploy" finds "deployed")',
  }),
  room: Type.Optional(
    Type.String({ maxLength: 32, description: "only this room (its name, as in the room's address)" }),
  ),
  author: Type.Optional(
    Type.String({ maxLength: 64, description: 'only messages of users with this display name (any case)' }),
  ),
  from: Type.Optional(
    Type.String({ maxLength: 40, description: 'only messages at or after this ISO 8601 date or date-time' }),
  ),
  to: Type.Optional(
    Type.String({ maxLength: 40, description: 'only messages before this ISO 8601 date or date-time' }),
  ),
  offset: Type.Optional(
    Type.String({ maxLength: 9, description: `results to skip, at most ${SEARCH_OFFSET_MAX}` }),
  ),
  limit: Type.Optional(
    Type.String({
      maxLength: 9,
      description: `results per page, at most ${SEARCH_PAGE_MAX}; default ${SEARCH_PAGE_DEFAULT}`,
    }),
  ),
})
export type SearchQuery = Static<typeof SearchQuerySchema>

/**
 * A piece of a result's text: `match` marks the words the search found. Text only, for the SPA to put in
 * elements as text (a `<mark>` for a match): never markup (ASVS 5.0 V1.2.1 output encoding).
 */
export const SnippetPartSchema = Type.Object({ text: Type.String(), match: Type.Boolean() })
export type SnippetPart = Static<typeof SnippetPartSchema>

export const SearchResultSchema = Type.Object({
  room: Type.Object({ name: Type.String(), title: Type.String() }),
  seq: Type.Integer({ minimum: 1 }),
  id: Type.String(),
  author: Type.Object({ id: Type.String(), name: Type.String(), verified: Type.Boolean() }),
  at: Type.String({ format: 'date-time' }),
  /** the message's text around its first match (all of it when short), cut at words, "…" where cut */
  snippet: Type.Array(SnippetPartSchema),
})
export type SearchResult = Static<typeof SearchResultSchema>

export const SearchPageSchema = Type.Object({
  results: Type.Array(SearchResultSchema),
  /** more results after these (among the newest SEARCH_MATCHES_MAX matches): ask again with `offset` moved on */
  hasMore: Type.Boolean(),
})
export type SearchPage = Static<typeof SearchPageSchema>
