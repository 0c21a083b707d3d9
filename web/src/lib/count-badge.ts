import { UNREAD_COUNT_MAX } from '@chat/contract'

/** a count as a badge shows it: the server stops counting at UNREAD_COUNT_MAX, so that many is "99+" */
export const countBadge = (count: number) =>
  count >= UNREAD_COUNT_MAX ? `${UNREAD_COUNT_MAX - 1}+` : String(count)
