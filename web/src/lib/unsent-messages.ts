/** A message written but not yet acknowledged as stored. */
export interface UnsentMessage {
  room: string
  clientId: string
  text: string
  at: string
}

/**
 * Unsent messages outlive the page (a reload, a trip to the login page after the session ended) in this
 * tab's sessionStorage, keyed by user: only the same user sends them after the next login, under their
 * first client id, so a message the server stored already is not stored twice. sessionStorage, not
 * localStorage: they go when the tab closes, and no other tab or later visitor of the browser reads them
 * (ASVS 5.0 V14.3.3, as little as needed kept in browser storage); no token or password ever goes there.
 */
const keyOf = (userId: string) => `chat.unsent.${userId}`

export function loadUnsent(userId: string, storage: Storage = sessionStorage): UnsentMessage[] {
  const saved = storage.getItem(keyOf(userId))
  if (saved === null) return []
  try {
    const parsed = JSON.parse(saved) as unknown
    return Array.isArray(parsed) ? (parsed as UnsentMessage[]) : []
  } catch (error) {
    // written by this code only: unreadable means damaged, and there is nothing left to save
    console.error('unsent messages in sessionStorage are unreadable; dropped', error)
    storage.removeItem(keyOf(userId))
    return []
  }
}

export function saveUnsent(
  userId: string,
  messages: Iterable<UnsentMessage>,
  storage: Storage = sessionStorage,
): void {
  const list = [...messages]
  if (list.length === 0) storage.removeItem(keyOf(userId))
  else storage.setItem(keyOf(userId), JSON.stringify(list))
}
