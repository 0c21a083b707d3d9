/**
 * Dates of messages, formatted once per distinct `at` and kept: a list of thousands re-renders without
 * re-formatting (toLocaleTimeString costs about half a millisecond a call).
 */
export interface MessageTime {
  /** the local calendar day, `YYYY-MM-DD`: where a day separator goes */
  day: string
  /** hours and minutes, as shown next to a message */
  time: string
  /** the full date and time, on hover and focus */
  full: string
  epochMs: number
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' })
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' })
/** beyond this many distinct times the cache starts again, so a page left open for days stays small */
const CACHE_MAX = 20_000
const cache = new Map<string, MessageTime>()

const dayOf = (date: Date) =>
  `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`

export function messageTime(at: string): MessageTime {
  let known = cache.get(at)
  if (known) return known
  if (cache.size >= CACHE_MAX) cache.clear()
  const date = new Date(at)
  known = {
    day: dayOf(date),
    time: timeFormat.format(date),
    full: fullFormat.format(date),
    epochMs: date.getTime(),
  }
  cache.set(at, known)
  return known
}

/** "Today", "Yesterday", else the date: the label of a day separator (`day` as in MessageTime). */
export function dayLabel(day: string, now: Date = new Date()): string {
  if (day === dayOf(now)) return 'Today'
  const yesterday = new Date(now)
  yesterday.setDate(now.getDate() - 1)
  if (day === dayOf(yesterday)) return 'Yesterday'
  const [year, month, date] = day.split('-').map(Number) as [number, number, number]
  return dayFormat.format(new Date(year, month - 1, date))
}
