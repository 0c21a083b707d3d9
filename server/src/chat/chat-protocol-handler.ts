import {
  CLIENT_ID_MAX_CHARS,
  ClientMessageSchemas,
  CloseCode,
  type ChatErrorCode,
  type ChatUser,
  type ClientMessage,
  type ClientMessageType,
  type ServerMessage,
} from '@chat/contract'
import type { FastifyBaseLogger } from 'fastify'
import { Compile } from 'typebox/compile'
import type { ChatHub, RoomListener } from './chat-hub.ts'
import type { ChatPeer, ChatSession } from './chat-peer.ts'
import type { ChangeOutcome, HistoryPage, Room } from './chat-repository.ts'
import type { RoomMember } from './room-feeds.ts'
import { TokenBucket } from './token-bucket.ts'

const validators = Object.fromEntries(
  Object.entries(ClientMessageSchemas).map(([type, schema]) => [type, Compile(schema)]),
) as { [K in ClientMessageType]: ReturnType<typeof Compile> }

interface Membership {
  /** undefined until the join has found the room */
  room: Room | undefined
  /** the highest seq this connection has been sent live; later deliveries at or below it are duplicates */
  lastSent: number
  /** live deliveries held back while the join's history is being sent, then flushed in order */
  held: { seq: number | undefined; frame: string }[] | undefined
}

export interface ChatConnectionSettings {
  messagesPerSecond: number
  heartbeatMs: number
}

class ChatProblem extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    /** the `clientId` of the `send` refused, so the client can drop it rather than send it again */
    readonly ref?: string,
  ) {
    super(message)
  }
}

/** A send that was stored and acknowledged, but whose announcement to the room failed. */
class AnnouncementFailed extends Error {
  constructor(cause: unknown) {
    super('stored, but the announcement failed', { cause })
  }
}

/** The `clientId` of a frame that is a `send`, read only to say which send a refusal is about. */
function sendClientId(frame: string | Uint8Array): string | undefined {
  if (typeof frame !== 'string') return undefined
  try {
    const value = JSON.parse(frame) as { type?: unknown; clientId?: unknown } | null
    const clientId = value?.type === 'send' ? value.clientId : undefined
    return typeof clientId === 'string' && clientId.length <= CLIENT_ID_MAX_CHARS ? clientId : undefined
  } catch {
    // not JSON: there is no send to name; the refusal goes out without a ref
    return undefined
  }
}

/** One `chat.v1` connection: parses what the client says, and delivers what its rooms say. */
export class ChatConnection implements RoomMember, RoomListener, ChatSession {
  private readonly rooms = new Map<string, Membership>()
  private readonly budget: TokenBucket
  private overBudget = 0
  /**
   * one message at a time, in arrival order; a send waits only until it is queued for storage, so sends
   * are stored, acked and seen in the order sent while several of them are in flight
   */
  private work: Promise<void> = Promise.resolve()
  private readonly user: ChatUser
  private gone = false
  /** rooms where this connection last said it is typing: told `typing: false` when it leaves or goes */
  private readonly typingIn = new Set<string>()

  constructor(
    private readonly peer: ChatPeer,
    private readonly hub: ChatHub,
    private readonly settings: ChatConnectionSettings,
    /** carries the connection id and user id of every line */
    private readonly log: FastifyBaseLogger,
  ) {
    this.user = { id: peer.user.id, name: peer.user.name, verified: peer.user.verified }
    this.budget = new TokenBucket(settings.messagesPerSecond)
  }

  /** Says welcome; frames that arrive meanwhile wait their turn behind it. */
  start(): void {
    this.hub.listen(this)
    this.work = this.welcome()
  }

  deliver(room: string, seq: number | undefined, frame: string): void {
    const membership = this.rooms.get(room)
    if (!membership) return
    if (membership.held) return void membership.held.push({ seq, frame })
    if (seq !== undefined) {
      if (seq <= membership.lastSent) return
      membership.lastSent = seq
      this.hub.metrics.messagesDelivered.inc()
    }
    this.peer.send(frame)
  }

  roomCreated(frame: string): void {
    this.peer.send(frame)
  }

  /** The budget is taken on arrival, so a flood is refused before it queues up behind slow work. */
  receive(frame: string | Uint8Array): void {
    if (this.gone) return
    if (this.budget.take()) {
      this.overBudget = 0
      this.work = this.work.then(() => this.process(frame))
      return
    }
    // a client that keeps flooding after being told is cut off (RFC 6455 1008: policy violation)
    if (++this.overBudget > this.settings.messagesPerSecond) {
      return this.peer.close(CloseCode.policyViolation, 'message rate limit exceeded')
    }
    const limit = this.settings.messagesPerSecond
    const ref = sendClientId(frame)
    this.send({
      type: 'error',
      code: 'rate_limited',
      message: `Slow down: at most ${limit} messages a second`,
      ...(ref === undefined ? {} : { ref, stored: false }),
    })
  }

  /** The peer has gone: queued frames are dropped, and the rooms left. */
  closed(): void {
    if (this.gone) return
    this.gone = true
    this.hub.unlisten(this)
    const rooms = [...this.rooms.keys()]
    this.rooms.clear()
    for (const room of rooms) {
      this.leaveRoom(room).catch((error: unknown) => {
        this.log.error({ err: error, room }, 'leaving a room on disconnect failed')
      })
    }
  }

  /** Out of the room's feed and presence, and no longer typing there. */
  private async leaveRoom(room: string): Promise<void> {
    if (this.typingIn.delete(room)) await this.hub.typing(room, this.user, false)
    await this.hub.leave(room, this, this.user)
  }

  private send(message: ServerMessage): void {
    if (!this.gone) this.peer.send(JSON.stringify(message))
  }

  private async welcome(): Promise<void> {
    try {
      const rooms = await this.hub.rooms()
      this.send({
        type: 'welcome',
        user: this.user,
        rooms,
        heartbeatMs: this.settings.heartbeatMs,
        server: this.hub.serverId,
        messagesPerSecond: this.settings.messagesPerSecond,
      })
    } catch (error) {
      this.log.error({ err: error }, 'chat connection failed to start')
      this.peer.close(CloseCode.internalError, 'server error')
    }
  }

  private async process(frame: string | Uint8Array): Promise<void> {
    // a closed socket's queue is not worked off: no reads for nobody
    if (this.gone) return
    let message: ClientMessage | undefined
    try {
      if (typeof frame !== 'string')
        throw new ChatProblem('binary_unsupported', 'Binary frames are not supported; send JSON text')
      message = parse(frame)
      await this.handle(message)
    } catch (error) {
      this.fail(message, error)
    }
  }

  private fail(message: ClientMessage | undefined, error: unknown): void {
    const clientId =
      message?.type === 'send' ? message.clientId : error instanceof ChatProblem ? error.ref : undefined
    const ref = clientId ? { ref: clientId } : {}
    // a refused send is not stored: the only stored one is a send whose announcement failed
    const stored = clientId ? { stored: error instanceof AnnouncementFailed } : {}
    if (error instanceof ChatProblem)
      return this.send({ type: 'error', code: error.code, message: error.message, ...ref, ...stored })
    // unexpected: logged here, once, with what the client asked; the client hears `unavailable`
    const room = message && 'room' in message ? message.room : undefined
    const cause = error instanceof AnnouncementFailed ? error.cause : error
    this.log.error({ err: cause, type: message?.type, room, ...ref }, 'chat request failed')
    this.send({
      type: 'error',
      code: 'unavailable',
      message:
        error instanceof AnnouncementFailed
          ? 'Your message is stored, but others may see it only when they next open the room'
          : 'The server could not do that now; try again',
      ...ref,
      ...stored,
    })
  }

  private async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'rooms':
        return this.send({ type: 'rooms', rooms: await this.hub.rooms() })
      case 'create_room':
        if (!(await this.hub.createRoom(message.room, this.user))) {
          throw new ChatProblem('room_exists', `A room named ${message.room} exists already`)
        }
        return
      case 'join':
        return this.join(message.room, message.since)
      case 'leave':
        if (!this.rooms.delete(message.room)) throw notJoined(message.room)
        await this.leaveRoom(message.room)
        return this.send({ type: 'left', room: message.room })
      case 'send': {
        // queued for storage in arrival order, and the next frame is read at once: a client's sends in
        // flight are stored together (group commit) and acked in order; a failure is answered on its own
        const stored = this.store(message)
        stored.catch((error: unknown) => this.fail(message, error))
        return
      }
      case 'typing':
        this.joined(message.room)
        if (message.typing) this.typingIn.add(message.room)
        else this.typingIn.delete(message.room)
        return this.hub.typing(message.room, this.user, message.typing)
      case 'history':
        return this.history(message)
      case 'edit':
        return this.changed(
          await this.hub.edit(this.joined(message.room), message.seq, this.user, message.text),
        )
      case 'delete':
        return this.changed(await this.hub.delete(this.joined(message.room), message.seq, this.user))
      case 'react': {
        const { room, seq, emoji, on } = message
        return this.changed(await this.hub.react(this.joined(room), seq, this.user, emoji, on))
      }
      case 'edit_history': {
        const edits = await this.hub.editHistory(this.joined(message.room), message.seq, this.user)
        if (!edits) throw refusal('forbidden')
        return this.send({ type: 'edit_history', room: message.room, seq: message.seq, edits })
      }
    }
  }

  /** A change made is heard by everyone as its `message_updated` frame, this connection included. */
  private changed(outcome: ChangeOutcome): void {
    if (outcome.refused) throw refusal(outcome.refused)
  }

  /** Stored, acked, announced: a failure after the ack is told apart, as the message is safe by then. */
  private async store(message: Extract<ClientMessage, { type: 'send' }>): Promise<void> {
    let acked = false
    try {
      const { clientId, text, replyTo, mentions } = message
      const sent = { author: this.user, clientId, text, replyTo, mentions }
      await this.hub.send(this.joined(message.room), sent, (stored) => {
        acked = true
        this.send({
          type: 'ack',
          room: stored.room,
          clientId: stored.clientId,
          id: stored.id,
          seq: stored.seq,
          at: stored.at,
        })
      })
    } catch (error) {
      throw acked ? new AnnouncementFailed(error) : error
    }
  }

  private joined(roomName: string): Room {
    const room = this.rooms.get(roomName)?.room
    if (!room) throw notJoined(roomName)
    return room
  }

  /**
   * Live messages are held from the moment the room is joined, one page of history is sent, then the
   * held ones flushed: every message once, in order. When the page could not hold all that was missed
   * (`done: false`), the client pages on with `history` `after`, and keeps what arrives live meanwhile.
   */
  private async join(roomName: string, since: number | undefined): Promise<void> {
    const current = this.rooms.get(roomName)
    if (current?.room && !current.held) return this.rejoin(roomName, current, since)
    if (current) {
      this.rooms.delete(roomName)
      await this.leaveRoom(roomName)
    }
    const membership: Membership = { room: undefined, lastSent: since ?? 0, held: [] }
    this.rooms.set(roomName, membership)
    let entered = false
    try {
      const joined = await this.hub.join(roomName, this, this.user)
      if (!joined) throw new ChatProblem('unknown_room', `There is no room named ${roomName}`)
      // the socket closed while the join was under way: `closed()` left before the hub had us, so leave
      // now, or this connection would stay in the room's feed and presence for good
      if (this.gone) return await this.leaveAfterFailedJoin(roomName)
      entered = true
      membership.room = joined.room
      const page =
        since === undefined
          ? await this.hub.recentHistory(joined.room)
          : await this.hub.history(joined.room, { after: since })
      membership.lastSent = Math.max(membership.lastSent, lastSeqOf(page))
      this.sendPage(roomName, page)
      const held = membership.held ?? []
      membership.held = undefined
      this.send({ type: 'joined', room: roomName, online: joined.online })
      for (const { seq, frame } of held) this.deliver(roomName, seq, frame)
    } catch (error) {
      if (this.rooms.get(roomName) === membership) this.rooms.delete(roomName)
      if (entered) await this.leaveAfterFailedJoin(roomName)
      throw error
    }
  }

  /**
   * A join of a room this connection is in: answered as a join (a page, then `joined`), but without leaving
   * and entering again, which would tell the room twice that this user left and came back.
   */
  private async rejoin(roomName: string, membership: Membership, since: number | undefined): Promise<void> {
    const room = membership.room!
    membership.held = []
    try {
      const page =
        since === undefined
          ? await this.hub.recentHistory(room)
          : await this.hub.history(room, { after: since })
      const online = await this.hub.online(roomName)
      membership.lastSent = Math.max(membership.lastSent, lastSeqOf(page))
      this.sendPage(roomName, page)
      this.send({ type: 'joined', room: roomName, online })
    } finally {
      const held = membership.held
      membership.held = undefined
      for (const { seq, frame } of held) this.deliver(roomName, seq, frame)
    }
  }

  /** The join's own error is what the client hears; a failure to leave again is only logged. */
  private async leaveAfterFailedJoin(roomName: string): Promise<void> {
    try {
      await this.hub.leave(roomName, this, this.user)
    } catch (error) {
      this.log.error({ err: error, room: roomName }, 'leaving a room after a failed join failed')
    }
  }

  private async history(message: Extract<ClientMessage, { type: 'history' }>): Promise<void> {
    const { room, before, after, limit } = message
    if (before !== undefined && after !== undefined) {
      throw new ChatProblem('invalid_message', 'Invalid history: give before or after, not both')
    }
    const cursor = after !== undefined ? { after } : { before }
    const page = await this.hub.history(this.joined(room), cursor, limit)
    this.sendPage(room, page, after !== undefined ? { after } : before !== undefined ? { before } : {})
  }

  /** `cursor`: the `before` or `after` of the `history` request answered, so the client knows which */
  private sendPage(room: string, page: HistoryPage, cursor: { before?: number; after?: number } = {}): void {
    const { messages, updates, done, hasOlder } = page
    // `updates` only when there are some: older clients' pages look as they always did
    const events = updates.length > 0 ? { updates } : {}
    this.send({ type: 'history', room, messages, done, hasOlder, ...cursor, ...events })
  }
}

const notJoined = (room: string) => new ChatProblem('not_joined', `Join ${room} first`)

/** The highest `seq` a page holds, message or event (0 when empty). */
const lastSeqOf = (page: HistoryPage) =>
  Math.max(page.messages.at(-1)?.seq ?? 0, page.updates.at(-1)?.seq ?? 0)

const REFUSALS = {
  unknown_message: 'There is no such message in this room (or it was deleted)',
  forbidden: 'You may not do that to this message',
  archived: 'This room is archived: its messages can no longer change',
} as const
const refusal = (code: keyof typeof REFUSALS) => new ChatProblem(code, REFUSALS[code])

function parse(text: string): ClientMessage {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ChatProblem('malformed_json', 'That was not valid JSON')
  }
  const type = (value as { type?: unknown } | null)?.type
  // an own property only: `constructor`, `__proto__` or `toString` are no message types (ASVS 5.0 V1.5 / V2.2.1)
  if (typeof type !== 'string' || !Object.hasOwn(validators, type)) {
    throw new ChatProblem(
      'unknown_type',
      `Unknown message type ${JSON.stringify(type)}; expected one of ${Object.keys(validators).join(', ')}`,
    )
  }
  const validator = validators[type as ClientMessageType]
  if (!validator.Check(value)) {
    const [first] = validator.Errors(value)
    const clientId = (value as { clientId?: unknown }).clientId
    const ref =
      type === 'send' && typeof clientId === 'string' && clientId.length <= CLIENT_ID_MAX_CHARS
        ? clientId
        : undefined
    throw new ChatProblem('invalid_message', `Invalid ${type}: ${describe(first)}`, ref)
  }
  return value as ClientMessage
}

/** The first schema error in words a person understands; the text rule by name, not its pattern. */
function describe(error: { instancePath: string; keyword: string; message: string } | undefined): string {
  if (!error) return 'bad fields'
  if (error.instancePath === '/text' && error.keyword === 'pattern') {
    return '/text may hold no control characters but newline and tab'
  }
  return `${error.instancePath || '/'} ${error.message}`
}
