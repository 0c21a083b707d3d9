import {
  BEARER_SUBPROTOCOL_PREFIX,
  CHAT_SUBPROTOCOL,
  CloseCode,
  type ChatMessage,
  type ChatUser,
  type ClientMessage,
  type MessageEdit,
  type MessageUpdate,
  type Reaction,
  type RoomMemberEntry,
  type RoomSummary,
  type ServerMessage,
} from '@chat/contract'
import { backoffDelay } from './backoff'

/** each kind of request of a union, without its `ref` (the client names it) */
type WithoutRef<T> = T extends unknown ? Omit<T, 'ref'> : never

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'ended'

/** What the chat client tells whoever shows it (the Pinia store). */
export interface ChatEvents {
  status(status: ConnectionStatus, detail?: string): void
  /** `admin`: this user sees and manages every room */
  welcome(user: ChatUser, rooms: RoomSummary[], admin: boolean): void
  /** the room list again, as the server has it now */
  roomList(rooms: RoomSummary[]): void
  /** `created`: a room new to this user's list (made, invited to, a direct message) */
  roomChanged(summary: RoomSummary, created: boolean): void
  /** out of this user's list (removed, left): not joined any more */
  roomRemoved(room: string): void
  /**
   * a new message in a listed room not joined; `mentioned`: it mentions this user or the room. `edited`:
   * no new message, but an edit newly mentioning this user in a message still unread to them
   */
  activity(room: string, seq: number, mentioned: boolean, edited: boolean): void
  /** this user's read marker, moved on any of their connections */
  read(room: string, seq: number): void
  /** `query`: the answer to a look-up by name (at most `MEMBER_MATCHES_MAX`), not the whole list */
  members(room: string, members: RoomMemberEntry[], query: string | undefined): void
  users(query: string, users: ChatUser[]): void
  directRoom(room: string, userId: string): void
  /** stored messages, in `seq` order, each once; `live`: announced as they were stored, not a page of history */
  messages(room: string, messages: ChatMessage[], live: boolean): void
  /** an edit, deletion or reaction change, in `seq` order with the messages, each once */
  updated(room: string, update: MessageUpdate): void
  /** a message's earlier texts, oldest first (only the room's moderators are answered) */
  editHistory(room: string, seq: number, edits: MessageEdit[]): void
  /** a page of messages older than any given so far, oldest first; `hasOlder`: more lie before them */
  older(room: string, messages: ChatMessage[], hasOlder: boolean): void
  /**
   * a page around a message jumped to (`around`), apart from the live list: `direction` says which side
   * it extends; `more`: messages lie beyond it on that side
   */
  window(room: string, messages: ChatMessage[], direction: 'before' | 'after', more: boolean): void
  acked(clientId: string, message: { id: string; seq: number; at: string }): void
  joined(room: string, online: ChatUser[]): void
  presence(room: string, online: ChatUser[]): void
  typing(room: string, user: ChatUser, typing: boolean): void
  /**
   * `ref`: the send's client id, or the ref `edit`, `remove`, `react` returned; `stored` then says whether
   * it was stored all the same (its announcement failed: not to be done again)
   */
  error(code: string, message: string, ref?: string, stored?: boolean): void
}

export interface SocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
}

export interface ChatClientOptions {
  url: string
  /** a token for `bearer.<token>`; the SPA leaves it out and relies on its session cookie */
  token?: string
  openSocket?: (url: string, protocols: string[]) => SocketLike
  setTimer?: (callback: () => void, ms: number) => unknown
  clearTimer?: (timer: unknown) => void
  random?: () => number
  now?: () => number
  /**
   * Asked when a socket closes before the server said welcome (a refused upgrade looks the same as a
   * server that is down, to page script): false means the session is over (GET /me said 401), so the
   * client stops; true or undefined (unknown: the server is unreachable) mean reconnect.
   */
  checkSession?: () => Promise<boolean | undefined>
}

/** A message or an event of a room's log: both are delivered by `seq`, each once. */
type LogEntry = ChatMessage | MessageUpdate
const isUpdate = (entry: LogEntry): entry is MessageUpdate => 'change' in entry

/** How many messages a page around a message jumped to shows on each side of it. */
export const WINDOW_SIDE = 25

interface Pending {
  room: string
  clientId: string
  text: string
  replyTo?: number
  mentions?: string[]
}

const OPEN = 1

/** What the client holds of one room it is in. */
interface RoomState {
  /** the highest seq held with nothing missing below it since joining; -1 before the first page */
  last: number
  /** the lowest seq held: where "load older" pages back from */
  oldest: number | undefined
  /** true while paging forward after a resume that missed more than one page */
  catchingUp: boolean
  /** live messages and events that arrived while catching up, shown once the pages have reached them */
  held: LogEntry[]
  /** `before:<seq>` / `after:<seq>` of the pages asked for around a message jumped to */
  windowRequests: Set<string>
}

const newRoomState = (): RoomState => ({
  last: -1,
  oldest: undefined,
  catchingUp: false,
  held: [],
  windowRequests: new Set(),
})

/** Sends refused so would be refused again: not pending any more (an archive, a room one was removed from). */
export const REFUSED_FOR_GOOD: ReadonlySet<string> = new Set(['invalid_message', 'archived', 'not_member'])

/** A room as a server of before rooms had members names it: public, titled by its name. */
const publicRoom = (room: string): RoomSummary => ({
  room,
  kind: 'public',
  title: room,
  topic: '',
  archived: false,
  lastSeq: 0,
})

/** Until the server says its rate in `welcome`: the server's default. */
const DEFAULT_MESSAGES_PER_SECOND = 10
/** Sends go out at this share of the server's rate, so joins and typing fit in the server's burst. */
const PACE_SHARE = 0.8
/** How long a send refused by `rate_limited` or `unavailable` (not stored) waits before going again. */
export const RETRY_AFTER_REFUSAL_MS = 1_000

/**
 * The chat connection, without any UI: it reconnects by itself with backoff and jitter, rejoins its rooms
 * with the last `seq` it has of each (so the server sends exactly what was missed), and sends again
 * whatever was not acknowledged, under the same client id (so nothing is stored twice). Only a 4001
 * close, "session ended", stops it for good.
 */
export class ChatClient {
  private socket: SocketLike | undefined
  private attempt = 0
  private reconnectTimer: unknown
  private stopped = false
  /** rooms to be in, and what is held of each */
  private readonly rooms = new Map<string, RoomState>()
  /** sent or to be sent, not yet acknowledged, in order */
  private readonly pending = new Map<string, Pending>()
  /** client ids of pending messages still to go out on this connection, in order */
  private outbox: string[] = []
  private paceTimer: unknown
  /** frame budget (sends and typing): tokens, refilled at the pace, so the server never has to refuse */
  private tokens = 0
  private perSecond = DEFAULT_MESSAGES_PER_SECOND * PACE_SHARE
  private refilledAt = 0
  /** whether the current socket got as far as welcome */
  private welcomed = false
  private readonly options: Required<Omit<ChatClientOptions, 'token' | 'checkSession'>> &
    Pick<ChatClientOptions, 'token' | 'checkSession'>

  constructor(
    options: ChatClientOptions,
    private readonly events: ChatEvents,
  ) {
    this.options = {
      openSocket: (url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike,
      setTimer: (callback, ms) => setTimeout(callback, ms),
      clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
      random: Math.random,
      now: () => performance.now(),
      ...options,
    }
  }

  connect(): void {
    this.stopped = false
    this.open('connecting')
  }

  /** Closes for good (logout, leaving the page). */
  stop(): void {
    this.stopped = true
    this.options.clearTimer(this.reconnectTimer)
    this.options.clearTimer(this.paceTimer)
    this.socket?.close(CloseCode.normal, 'bye')
    this.socket = undefined
  }

  /** Joins once: a room already joined is not joined again (that would publish presence twice). */
  join(room: string): void {
    if (this.rooms.has(room)) return
    this.rooms.set(room, newRoomState())
    this.sendNow({ type: 'join', room })
  }

  /** Drops a room the server does not have, without a word to the server (there is nothing to leave). */
  forget(room: string): void {
    this.rooms.delete(room)
  }

  isJoined(room: string): boolean {
    return this.rooms.has(room)
  }

  /** Asks for the page of messages just before the oldest one held (the "Load older messages" button). */
  loadOlder(room: string): void {
    const oldest = this.rooms.get(room)?.oldest
    if (oldest !== undefined) this.sendNow({ type: 'history', room, before: oldest })
  }

  /** Asks for the pages on either side of message `seq` (it included), apart from the live list. */
  around(room: string, seq: number): void {
    this.windowPage(room, 'before', seq + 1)
    this.windowPage(room, 'after', seq)
  }

  /** One more page of the jumped-to view: before its first message or after its last. */
  windowPage(room: string, direction: 'before' | 'after', seq: number): void {
    const state = this.rooms.get(room)
    if (!state) return
    state.windowRequests.add(`${direction}:${seq}`)
    this.sendNow({ type: 'history', room, [direction]: seq, limit: WINDOW_SIDE })
  }

  /**
   * Changes to a message: each returns the `ref` it named the request by, which an error answering it
   * carries back with `stored` (docs/protocol.md, "Errors"); undefined when not connected, so nothing was
   * sent. Never sent again by themselves: unlike a send, a change has no id that would make a repeat harmless.
   */
  edit(room: string, seq: number, text: string, mentions: string[] = []): string | undefined {
    return this.sendNamed({ type: 'edit', room, seq, text, ...(mentions.length > 0 ? { mentions } : {}) })
  }

  remove(room: string, seq: number): string | undefined {
    return this.sendNamed({ type: 'delete', room, seq })
  }

  react(room: string, seq: number, emoji: Reaction, on: boolean): string | undefined {
    return this.sendNamed({ type: 'react', room, seq, emoji, on })
  }

  /**
   * Asks for a message's earlier texts: answered by `editHistory`, or by an error carrying the `ref`
   * returned; undefined when not connected, so nothing was asked.
   */
  editHistory(room: string, seq: number): string | undefined {
    return this.sendNamed({ type: 'edit_history', room, seq })
  }

  /** Sends a request named by a new `ref`: the ref, or undefined when it could not go out. */
  private sendNamed(
    message: WithoutRef<Extract<ClientMessage, { type: 'edit' | 'delete' | 'react' | 'edit_history' }>>,
  ): string | undefined {
    const ref = crypto.randomUUID()
    return this.sendNow({ ...message, ref } as ClientMessage) ? ref : undefined
  }

  leave(room: string): void {
    this.rooms.delete(room)
    this.sendNow({ type: 'leave', room })
  }

  createRoom(room: string, kind: 'public' | 'private' = 'public'): void {
    this.sendNow({ type: 'create_room', room, kind })
  }

  /** Room management and look-ups: each answered by its own event (docs/protocol.md). */
  request(
    message: Extract<
      ClientMessage,
      {
        type:
          | 'direct'
          | 'read'
          | 'members'
          | 'invite'
          | 'remove_member'
          | 'set_role'
          | 'update_room'
          | 'leave_room'
          | 'find_users'
      }
    >,
  ): boolean {
    return this.sendNow(message)
  }

  /**
   * Queues a message; it goes out as soon as connected and within the server's rate, and again (same
   * client id, so never stored twice) until acknowledged.
   */
  send(
    room: string,
    text: string,
    clientId: string = crypto.randomUUID(),
    extra: Pick<Pending, 'replyTo' | 'mentions'> = {},
  ): string {
    this.pending.set(clientId, { room, clientId, text, ...extra })
    this.outbox.push(clientId)
    this.pump()
    return clientId
  }

  /**
   * Typing says nothing that lasts: it goes only when the budget has room to spare for a send after it,
   * so a quick writer's typing frames never make the server refuse their messages.
   */
  typing(room: string, typing: boolean): void {
    this.refill()
    if (this.tokens < 2) return
    this.tokens -= 1
    this.sendNow({ type: 'typing', room, typing })
  }

  /** the last `seq` seen of each room (tests and the store read it) */
  lastSeq(room: string): number | undefined {
    const seq = this.rooms.get(room)?.last
    return seq === undefined || seq < 0 ? undefined : seq
  }

  private since(room: string) {
    const seq = this.lastSeq(room)
    return seq === undefined ? {} : { since: seq }
  }

  /** Whether it went out: nothing is sent while the socket is not open. */
  private sendNow(message: ClientMessage): boolean {
    if (this.socket?.readyState !== OPEN) return false
    this.socket.send(JSON.stringify(message))
    return true
  }

  /** Lets queued sends out at the pace; when out of budget, comes back when the next token is due. */
  private pump(): void {
    if (this.paceTimer !== undefined || !this.welcomed || this.socket?.readyState !== OPEN) return
    this.refill()
    while (this.outbox.length > 0 && this.tokens >= 1) {
      const message = this.pending.get(this.outbox.shift()!)
      if (!message) continue
      this.tokens -= 1
      this.sendNow({ type: 'send', ...message })
    }
    if (this.outbox.length > 0) this.pumpAfter(((1 - this.tokens) / this.perSecond) * 1000)
  }

  private refill(): void {
    const now = this.options.now()
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond)
    this.refilledAt = now
  }

  private pumpAfter(ms: number): void {
    this.options.clearTimer(this.paceTimer)
    this.paceTimer = this.options.setTimer(() => {
      this.paceTimer = undefined
      this.pump()
    }, ms)
  }

  /** A send the server refused without storing goes back in the queue, which waits a moment. */
  private retry(clientId: string): void {
    if (!this.pending.has(clientId) || this.outbox.includes(clientId)) return
    // back in its place: messages go out in the order they were written
    const queued = new Set([...this.outbox, clientId])
    this.outbox = [...this.pending.keys()].filter((id) => queued.has(id))
    this.tokens = 0
    if (this.paceTimer === undefined) this.pumpAfter(RETRY_AFTER_REFUSAL_MS)
  }

  private open(status: ConnectionStatus): void {
    this.events.status(status)
    const protocols = [
      CHAT_SUBPROTOCOL,
      ...(this.options.token ? [BEARER_SUBPROTOCOL_PREFIX + this.options.token] : []),
    ]
    const socket = this.options.openSocket(this.options.url, protocols)
    this.socket = socket
    this.welcomed = false
    socket.onmessage = (event) => this.receive(String(event.data))
    socket.onclose = (event) => this.closed(socket, event.code, event.reason)
  }

  private closed(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket || this.stopped) return
    this.socket = undefined
    this.options.clearTimer(this.paceTimer)
    this.paceTimer = undefined
    if (code === CloseCode.sessionEnded) return this.end(reason || 'Your session has ended')
    this.events.status('reconnecting', reason || undefined)
    const delay = backoffDelay(this.attempt++, this.options.random)
    // refused before welcome: perhaps the session is gone (a 401 on the upgrade), which only GET /me can tell
    const check = !this.welcomed && this.options.checkSession ? this.options.checkSession() : undefined
    this.reconnectTimer = this.options.setTimer(() => {
      if (!check) return this.open('reconnecting')
      void check.then((valid) => {
        if (this.stopped) return
        if (valid === false) this.end('Your session has ended')
        else this.open('reconnecting')
      })
    }, delay)
  }

  private end(reason: string): void {
    this.stopped = true
    this.events.status('ended', reason)
  }

  private receive(data: string): void {
    let message: ServerMessage
    try {
      message = JSON.parse(data) as ServerMessage
    } catch {
      return
    }
    switch (message.type) {
      case 'welcome':
        this.attempt = 0
        this.welcomed = true
        for (const [room, state] of this.rooms) {
          // the rejoin's pages bring whatever was held back and not yet shown
          state.catchingUp = false
          state.held = []
          this.sendNow({ type: 'join', room, ...this.since(room) })
        }
        // older servers do not say their rate: assume the default
        this.perSecond = (message.messagesPerSecond ?? DEFAULT_MESSAGES_PER_SECOND) * PACE_SHARE
        this.tokens = this.perSecond
        this.refilledAt = this.options.now()
        // whatever is not acknowledged goes again, in order (after the rejoins, which the server needs first)
        this.outbox = [...this.pending.keys()]
        this.events.status('open')
        // a server of before rooms had members lists names only: every room public
        this.events.welcome(
          message.user,
          message.roomList ?? message.rooms.map((room) => publicRoom(room)),
          message.admin ?? false,
        )
        return this.pump()
      case 'history': {
        const state = this.rooms.get(message.room)
        const direction = message.before !== undefined ? 'before' : 'after'
        const key = `${direction}:${message.before ?? message.after}`
        if (state?.windowRequests.delete(key)) {
          const more = direction === 'before' ? message.hasOlder : !message.done
          return this.events.window(message.room, message.messages, direction, more)
        }
        return message.before === undefined ? this.forwardPage(message) : this.olderPage(message)
      }
      case 'message':
      case 'message_updated': {
        const { type: _type, ...entry } = message
        const state = this.rooms.get(message.room)
        if (state?.catchingUp) return void state.held.push(entry)
        return this.deliver(message.room, [entry], true)
      }
      case 'ack':
        this.pending.delete(message.clientId)
        return this.events.acked(message.clientId, message)
      case 'joined':
        return this.events.joined(message.room, message.online)
      case 'presence':
        return this.events.presence(message.room, message.online)
      case 'typing':
        return this.events.typing(message.room, message.user, message.typing)
      case 'room_created':
        return this.events.roomChanged(message.summary ?? publicRoom(message.room), true)
      case 'room_updated':
        return this.events.roomChanged(message.summary, false)
      case 'room_removed':
        this.rooms.delete(message.room)
        return this.events.roomRemoved(message.room)
      case 'rooms':
        return this.events.roomList(message.roomList)
      case 'activity':
        return this.events.activity(
          message.room,
          message.seq,
          message.mentioned === true,
          message.change === 'edited',
        )
      case 'read':
        return this.events.read(message.room, message.seq)
      case 'members':
        return this.events.members(message.room, message.members, message.query)
      case 'edit_history':
        return this.events.editHistory(message.room, message.seq, message.edits)
      case 'users':
        return this.events.users(message.query, message.users)
      case 'direct_room':
        return this.events.directRoom(message.room, message.user)
      case 'left':
        return
      case 'error':
        if (message.ref !== undefined) {
          // refused as invalid, a message would be refused again; stored, it is safe: neither is pending
          if (REFUSED_FOR_GOOD.has(message.code) || message.stored) this.pending.delete(message.ref)
          else if (message.code === 'rate_limited' || message.code === 'unavailable') this.retry(message.ref)
        }
        return this.events.error(message.code, message.message, message.ref, message.stored)
    }
  }

  /**
   * A page of what came after the last message held (a join's, or one asked for while catching up).
   * While the server says more follow, the next page is asked for, and live messages wait until the
   * pages reach them: no gap between what was missed and what is live.
   */
  private forwardPage(page: Extract<ServerMessage, { type: 'history' }>): void {
    const state = this.rooms.get(page.room)
    if (!state) return
    if (state.last < 0 && page.messages.length > 0) this.events.older(page.room, [], page.hasOlder)
    const entries: LogEntry[] = [...page.messages, ...(page.updates ?? [])].sort((x, y) => x.seq - y.seq)
    this.deliver(page.room, entries)
    if (!page.done) {
      state.catchingUp = true
      // not connected: the join after the reconnect resumes from `last`
      this.sendNow({ type: 'history', room: page.room, after: state.last })
      return
    }
    state.catchingUp = false
    const held = state.held.splice(0)
    this.deliver(page.room, held, true)
  }

  private olderPage(page: Extract<ServerMessage, { type: 'history' }>): void {
    const state = this.rooms.get(page.room)
    if (!state) return
    const older = page.messages.filter((message) => state.oldest === undefined || message.seq < state.oldest)
    if (older.length > 0) state.oldest = older[0]!.seq
    this.events.older(page.room, older, page.hasOlder)
  }

  /**
   * Drops what was seen already, so a resume that overlaps never shows a message or applies an event
   * twice; messages go in runs, each event in its place between them.
   */
  private deliver(room: string, entries: LogEntry[], live = false): void {
    const state = this.rooms.get(room)
    if (!state) return
    const fresh = entries.filter((entry) => entry.seq > state.last)
    if (fresh.length === 0) return
    state.last = fresh.at(-1)!.seq
    let run: ChatMessage[] = []
    const flush = () => {
      if (run.length === 0) return
      state.oldest ??= run[0]!.seq
      this.events.messages(room, run, live)
      run = []
    }
    for (const entry of fresh) {
      if (!isUpdate(entry)) {
        run.push(entry)
        continue
      }
      flush()
      this.events.updated(room, entry)
    }
    flush()
  }
}
