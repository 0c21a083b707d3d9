import {
  ROOM_NAME_PATTERN,
  SEARCH_OFFSET_MAX,
  SEARCH_PAGE_DEFAULT,
  SEARCH_PAGE_MAX,
  type FieldErrors,
  type SearchPage,
  type SearchQuery,
} from '@chat/contract'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import { createLimiter, secondsToWait, type LimiterStore } from '../auth/limiter-store.ts'
import { invalidFields, tooManyRequests } from '../http/api-error.ts'
import type { SearchCriteria, SearchRepository } from './search-repository.ts'
import { snippetOf } from './search-snippet.ts'

/**
 * Searches one user may run a minute: far more than a person types, few enough that a script cannot make
 * the database rank the whole message table over and over (ASVS 5.0 V2.4.1 anti-automation).
 */
export const SEARCHES_PER_MINUTE = 60

const ROOM_NAME = new RegExp(ROOM_NAME_PATTERN)
/** a date, or a date and time with an optional zone (a time without zone is UTC, as the API's clock is) */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$/
const BAD_DATE = 'Not a date: use an ISO 8601 date (2026-11-29) or date-time (2026-11-29T09:30:00Z).'

/** Full-text search over the messages of the rooms a user is a member of. */
export class SearchService {
  private readonly perUser: RateLimiterAbstract

  constructor(
    private readonly repository: SearchRepository,
    store: LimiterStore,
  ) {
    this.perUser = createLimiter(store, 'search-user', SEARCHES_PER_MINUTE, 60)
  }

  async search(userId: string, query: SearchQuery): Promise<SearchPage> {
    const criteria = readCriteria(userId, query)
    const retryAfter = await secondsToWait([this.perUser.consume(userId)])
    if (retryAfter > 0) throw tooManyRequests('Too many searches', retryAfter)
    const hits = await this.repository.search(criteria)
    return {
      results: hits.slice(0, criteria.limit).map((hit) => ({
        room: { name: hit.roomName, title: hit.roomTitle },
        seq: hit.seq,
        id: hit.id,
        author: hit.author,
        at: hit.at.toISOString(),
        snippet: snippetOf(hit.headline),
      })),
      hasMore: hits.length > criteria.limit,
    }
  }
}

/** The query string's values checked and read, or a 400 naming each bad one in words. */
function readCriteria(userId: string, query: SearchQuery): SearchCriteria {
  const errors: FieldErrors = {}
  const text = query.q.trim()
  if (!/[\p{L}\p{N}]/u.test(text)) errors.q = ['Type a word to search for.']
  const room = query.room?.trim() || undefined
  if (room !== undefined && !ROOM_NAME.test(room)) errors.room = ['There is no room with such a name.']
  const [from, to] = [readDate(query.from), readDate(query.to)]
  if (from === null) errors.from = [BAD_DATE]
  if (to === null) errors.to = [BAD_DATE]
  if (from && to && from >= to) errors.to = ['Must come after "from".']
  const offset = readCount(query.offset, 0, 0, SEARCH_OFFSET_MAX)
  if (offset === null) errors.offset = [`A whole number from 0 to ${SEARCH_OFFSET_MAX}.`]
  const limit = readCount(query.limit, SEARCH_PAGE_DEFAULT, 1, SEARCH_PAGE_MAX)
  if (limit === null) errors.limit = [`A whole number from 1 to ${SEARCH_PAGE_MAX}.`]
  if (Object.keys(errors).length > 0) throw invalidFields(errors)
  return {
    userId,
    text,
    room,
    author: query.author?.trim() || undefined,
    from: from ?? undefined,
    to: to ?? undefined,
    offset: offset!,
    limit: limit!,
  }
}

/** undefined when not given, null when not a date */
function readDate(value: string | undefined): Date | undefined | null {
  if (value === undefined || value.trim() === '') return undefined
  const text = value.trim()
  if (!ISO_DATE.test(text)) return null
  // a date-time without a zone is UTC here, never the server's local time
  const date = new Date(text.length > 10 && !/(Z|[+-]\d{2}:\d{2})$/.test(text) ? `${text}Z` : text)
  // a calendar day that does not exist (2026-02-30) is refused, not moved on to the next month
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number]
  const calendar = new Date(Date.UTC(year, month - 1, day))
  const real = calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day
  return real && !Number.isNaN(date.getTime()) ? date : null
}

/** the fallback when not given, null when not a whole number within bounds */
function readCount(value: string | undefined, fallback: number, min: number, max: number): number | null {
  if (value === undefined || value === '') return fallback
  if (!/^\d{1,9}$/.test(value)) return null
  const count = Number(value)
  return count < min || count > max ? null : count
}
