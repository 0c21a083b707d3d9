import {
  ClientMessageSchemas,
  CloseCode,
  type ChatErrorCode,
  type ChatMessage,
  type ChatUser,
  type ClientMessage,
  type ClientMessageType,
  type ServerMessage,
} from '@chat/contract'
import { Compile } from 'typebox/compile'
import type { RawData } from 'ws'
import type { Peer } from '../ws/peer.ts'
import type { ChatHub, RoomListener } from './chat-hub.ts'
import type { Room } from './chat-repository.ts'
import type { RoomMember } from './room-feeds.ts'
import { TokenBucket } from './token-bucket.ts'

const validators = Object.fromEntries(
  Object.entries(ClientMessageSchemas).map(([type, schema]) => [type, Compile(schema)]),
) as { [K in ClientMessageType]: ReturnType<typeof Compile> }

const HISTORY_PAGE = 200

interface Membership {
  room: Room
  /** the highest seq this connection has been sent; later deliveries at or below it are duplicates */
  lastSent: number
  /** live deliveries held back while history is being sent, then flushed in order */
  held: { seq: number | undefined; frame: string }[] | undefined
}

class ChatProblem extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** One `chat.v1` connection: parses what the client says, and delivers what its rooms say. */
export class ChatConnection implements RoomMember, RoomListener {
  private readonly rooms = new Map<string, Membership>()
  private readonly budget: TokenBucket
  private overBudget = 0
  /** one message at a time, in arrival order: two sends are stored, acked and seen in the order sent */
  private work: Promise<void> = Promise.resolve()
  private readonly user: ChatUser

  constructor(
    private readonly peer: Peer,
    private readonly hub: ChatHub,
  ) {
    this.user = { id: peer.user.id, email: peer.user.email }
    this.budget = new TokenBucket(hub.settings.messagesPerSecond)
  }

  async start(heartbeatMs: number): Promise<void> {
    this.hub.listen(this)
    this.peer.socket.on('message', (data: RawData, isBinary: boolean) => this.receive(data, isBinary))
    this.peer.socket.on('close', () => void this.stop())
    const rooms = await this.hub.repository.roomNames()
    this.send({ type: 'welcome', user: this.user, rooms, heartbeatMs, server: this.hub.processId })
  }

  deliver(room: string, seq: number | undefined, frame: string): void {
    const membership = this.rooms.get(room)
    if (!membership) return
    if (membership.held) return void membership.held.push({ seq, frame })
    if (seq !== undefined) {
      if (seq <= membership.lastSent) return
      membership.lastSent = seq
    }
    this.peer.send(frame)
  }

  roomCreated(frame: string): void {
    this.peer.send(frame)
  }

  private send(message: ServerMessage): void {
    this.peer.send(JSON.stringify(message))
  }

  private async stop(): Promise<void> {
    this.hub.unlisten(this)
    const rooms = [...this.rooms.keys()]
    this.rooms.clear()
    await Promise.allSettled(rooms.map((room) => this.exit(room)))
  }

  /** The budget is taken on arrival, so a flood is refused before it queues up behind slow work. */
  private receive(data: RawData, isBinary: boolean): void {
    if (this.budget.take()) {
      this.overBudget = 0
      this.work = this.work.then(() => this.process(data, isBinary))
      return
    }
    // a client that keeps flooding after being told is cut off (RFC 6455 1008: policy violation)
    if (++this.overBudget > this.hub.settings.messagesPerSecond) {
      return this.peer.close(CloseCode.policyViolation, 'message rate limit exceeded')
    }
    const limit = this.hub.settings.messagesPerSecond
    this.send({
      type: 'error',
      code: 'rate_limited',
      message: `Slow down: at most ${limit} messages a second`,
    })
  }

  private async process(data: RawData, isBinary: boolean): Promise<void> {
    let ref: string | undefined
    try {
      if (isBinary)
        throw new ChatProblem('binary_unsupported', 'Binary frames are not supported; send JSON text')
      const message = parse(data.toString())
      ref = message.type === 'send' ? message.clientId : undefined
      await this.handle(message)
    } catch (error) {
      if (error instanceof ChatProblem)
        return this.send({ type: 'error', code: error.code, message: error.message, ...(ref ? { ref } : {}) })
      this.send({
        type: 'error',
        code: 'unavailable',
        message: 'The server could not do that now; try again',
        ...(ref ? { ref } : {}),
      })
    }
  }

  private async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'rooms':
        return this.send({ type: 'rooms', rooms: await this.hub.repository.roomNames() })
      case 'create_room':
        if (!(await this.hub.repository.createRoom(message.room, this.user.id))) {
          throw new ChatProblem('room_exists', `A room named ${message.room} exists already`)
        }
        return this.hub.announceRoom(message.room)
      case 'join':
        return this.join(message.room, message.since)
      case 'leave':
        if (!this.rooms.delete(message.room)) throw notJoined(message.room)
        await this.exit(message.room)
        return this.send({ type: 'left', room: message.room })
      case 'send':
        return this.sendMessage(this.membership(message.room).room, message.clientId, message.text)
      case 'typing':
        this.membership(message.room)
        return this.hub.feeds.publishEvent(
          message.room,
          JSON.stringify({ type: 'typing', room: message.room, user: this.user, typing: message.typing }),
        )
    }
  }

  private membership(room: string): Membership {
    const membership = this.rooms.get(room)
    if (!membership) throw notJoined(room)
    return membership
  }

  /**
   * Live messages are held from the moment the room is joined, history is sent, then the held ones
   * flushed: the client gets every message once, in order, with no gap between history and live.
   */
  private async join(roomName: string, since: number | undefined): Promise<void> {
    if (this.rooms.has(roomName)) {
      this.rooms.delete(roomName)
      await this.exit(roomName)
    }
    const room = await this.hub.repository.findRoom(roomName)
    if (!room) throw new ChatProblem('unknown_room', `There is no room named ${roomName}`)
    const membership: Membership = { room, lastSent: since ?? 0, held: [] }
    this.rooms.set(roomName, membership)
    try {
      await this.sendJoin(membership, since)
    } catch (error) {
      this.rooms.delete(roomName)
      await this.exit(roomName).catch(() => {})
      throw error
    }
  }

  private async sendJoin(membership: Membership, since: number | undefined): Promise<void> {
    const { room } = membership
    const roomName = room.name
    await this.hub.feeds.join(room, this)
    const online = await this.hub.enter(roomName, this.user)
    if (since === undefined) {
      const messages = await this.hub.repository.lastMessages(room, this.hub.settings.historyLimit)
      this.sendHistory(membership, messages, true)
    } else {
      for (;;) {
        const messages = await this.hub.repository.messagesAfter(room, membership.lastSent, HISTORY_PAGE)
        const done = messages.length < HISTORY_PAGE
        this.sendHistory(membership, messages, done)
        if (done) break
      }
    }
    const held = membership.held ?? []
    membership.held = undefined
    this.send({ type: 'joined', room: roomName, online })
    for (const { seq, frame } of held) this.deliver(roomName, seq, frame)
  }

  private sendHistory(membership: Membership, messages: ChatMessage[], done: boolean) {
    const last = messages.at(-1)
    if (last) membership.lastSent = Math.max(membership.lastSent, last.seq)
    this.send({ type: 'history', room: membership.room.name, messages, done })
  }

  private async exit(room: string): Promise<void> {
    await this.hub.feeds.leave(room, this)
    await this.hub.exit(room, this.user)
  }

  /** Stored first, then acknowledged, then announced: an ack means the message is safe. */
  private async sendMessage(room: Room, clientId: string, text: string): Promise<void> {
    const { message, created } = await this.hub.repository.insertMessage(room, this.user, clientId, text)
    this.send({ type: 'ack', room: message.room, clientId, id: message.id, seq: message.seq, at: message.at })
    if (created) await this.hub.feeds.publishMessage(message)
  }
}

const notJoined = (room: string) => new ChatProblem('not_joined', `Join ${room} first`)

function parse(text: string): ClientMessage {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ChatProblem('malformed_json', 'That was not valid JSON')
  }
  const type = (value as { type?: unknown } | null)?.type
  if (typeof type !== 'string' || !(type in validators)) {
    throw new ChatProblem(
      'unknown_type',
      `Unknown message type ${JSON.stringify(type)}; expected one of ${Object.keys(validators).join(', ')}`,
    )
  }
  const validator = validators[type as ClientMessageType]
  if (!validator.Check(value)) {
    const [first] = validator.Errors(value)
    throw new ChatProblem(
      'invalid_message',
      `Invalid ${type}: ${first ? `${first.instancePath || '/'} ${first.message}` : 'bad fields'}`,
    )
  }
  return value as ClientMessage
}
