import { HISTORY_PAGE_MAX, type ChatMessage, type ChatUser, type ClientMessage } from '@chat/contract'
import type { Page, WebSocketRoute } from 'playwright-core'

/**
 * The page's chat socket answered by the test instead of a server (Playwright's routeWebSocket), for what a
 * real server cannot give on demand: thousands of messages at once, dates of past days, a steady stream.
 * Login and GET /me still go to the real server. It speaks chat.v1 as docs/protocol.md says.
 */
export interface FakeChatServer {
  /** a live message to the room, as if someone sent it now */
  push(message: ChatMessage): void
  /** what the page sent, in order */
  received: ClientMessage[]
}

export async function fakeChatServer(
  page: Page,
  { user, history }: { user: ChatUser; history: ChatMessage[] },
): Promise<FakeChatServer> {
  let socket: WebSocketRoute | undefined
  const received: ClientMessage[] = []
  const say = (message: unknown) => socket?.send(JSON.stringify(message))
  /** the messages after `after`, a page at a time, as the server pages a resume */
  const pageAfter = (room: string, after: number) => {
    const messages = history.filter((message) => message.seq > after).slice(0, HISTORY_PAGE_MAX)
    const done = messages.at(-1)?.seq === history.at(-1)?.seq
    return { type: 'history', room, messages, done, hasOlder: after > 0 }
  }
  await page.routeWebSocket('**/ws', (route) => {
    socket = route
    route.onMessage((frame) => {
      const message = JSON.parse(String(frame)) as ClientMessage
      received.push(message)
      if (message.type === 'join') {
        say(pageAfter(message.room, message.since ?? 0))
        say({ type: 'joined', room: message.room, online: [user] })
      } else if (message.type === 'history' && message.after !== undefined) {
        say({ ...pageAfter(message.room, message.after), after: message.after })
      }
    })
    say({
      type: 'welcome',
      user,
      rooms: ['general'],
      heartbeatMs: 30_000,
      server: 'fake',
      messagesPerSecond: 100,
    })
  })
  return { push: (message) => say({ type: 'message', ...message }), received }
}

/** `count` messages of `author` in general, one a minute up to now: they span days when there are many. */
export function pastMessages(count: number, author: ChatUser, now = Date.now()): ChatMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    room: 'general',
    seq: i + 1,
    id: `past-${i + 1}`,
    author,
    clientId: `past-${i + 1}`,
    text: `history ${i + 1}`,
    at: new Date(now - (count - i) * 60_000).toISOString(),
  }))
}
