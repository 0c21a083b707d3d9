import {
  HISTORY_PAGE_MAX,
  type ChatMessage,
  type ChatUser,
  type MessageUpdate,
  type Reaction,
} from '@chat/contract'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { LocalBus } from '../bus/bus.ts'
import { createMetrics } from '../metrics/metrics.ts'
import { ChatHub } from './chat-hub.ts'
import type { ChatPeer } from './chat-peer.ts'
import { ChatConnection } from './chat-protocol-handler.ts'
import type {
  ChangeOutcome,
  ChatStore,
  HistoryCursor,
  HistoryPage,
  LogEntry,
  MessageChangeStore,
  NewMessage,
  Room,
} from './chat-repository.ts'
import { MemoryPresenceStore } from './presence.ts'
import type { RoomStore } from './room-directory.ts'
import type { RoomListing } from './room-repository.ts'
import { messageFrame } from './room-feeds.ts'

const PREFIX = 'unit:'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls until `condition` holds, for at most `timeoutMs`. */
async function waitUntil(what: string, condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

/** The errors a peer was sent, by what names them: code, ref and stored. */
const namedErrors = (peer: FakePeer) =>
  peer
    .ofType<{ code: string; ref?: string; stored?: boolean }>('error')
    .map(({ code, ref, stored }) => ({ code, ref, stored }))

/**
 * The chat's storage in memory: rooms number their messages as PostgreSQL would, and a change to a
 * message (its author's only, as the repository checks) takes the next number as its event.
 */
class FakeChatStore implements ChatStore, MessageChangeStore {
  private readonly rooms = new Map<string, Room>()
  private readonly messages = new Map<string, ChatMessage[]>()
  /** the next call of that name throws, as a database that went away */
  failing = new Set<string>()
  readonly calls: string[] = []
  /** the size of each batch stored */
  readonly batches: number[] = []

  private call(name: string): void {
    this.calls.push(name)
    if (this.failing.delete(name)) throw new Error(`${name}: connection terminated unexpectedly`)
  }

  roomNames(): string[] {
    return [...this.rooms.keys()].sort()
  }
  async findRoom(name: string): Promise<Room | undefined> {
    this.call('findRoom')
    const room = this.rooms.get(name)
    return room && { ...room }
  }
  async createRoom(name: string): Promise<boolean> {
    this.call('createRoom')
    if (this.rooms.has(name)) return false
    this.rooms.set(name, { id: String(this.rooms.size + 1), name, lastSeq: 0 })
    this.messages.set(name, [])
    return true
  }
  async insertMessages(room: Room, batch: readonly NewMessage[]) {
    this.call('insertMessages')
    this.batches.push(batch.length)
    // a tick, as a round trip: sends arriving meanwhile queue for the next batch
    await sleep(1)
    return batch.map(({ author, clientId, text }) => ({
      message: this.store(room.name, author, clientId, text),
      created: true,
    }))
  }
  async logAfter(room: Room, after: number, limit: number, upTo = Infinity): Promise<LogEntry[]> {
    this.call('logAfter')
    return this.messages
      .get(room.name)!
      .filter((message) => message.seq > after && message.seq <= upTo)
      .slice(0, limit)
      .map((message) => ({ message }))
  }
  async historyPage(room: Room, cursor: HistoryCursor, limit: number): Promise<HistoryPage> {
    this.call('historyPage')
    const all = this.messages.get(room.name)!
    if ('after' in cursor) {
      const newer = all.filter((message) => message.seq > cursor.after)
      return {
        messages: newer.slice(0, limit),
        updates: [],
        done: newer.length <= limit,
        hasOlder: all.some((message) => message.seq <= cursor.after),
      }
    }
    const older = all.filter((message) => cursor.before === undefined || message.seq < cursor.before)
    return { messages: older.slice(-limit), updates: [], done: true, hasOlder: older.length > limit }
  }

  /** Stores a message without announcing it, as a process whose announcement was lost. */
  store(roomName: string, author: ChatUser, clientId: string, text: string): ChatMessage {
    const room = this.rooms.get(roomName)!
    const message: ChatMessage = {
      room: roomName,
      seq: ++room.lastSeq,
      id: `${roomName}-${room.lastSeq}`,
      author,
      clientId,
      text,
      at: new Date().toISOString(),
    }
    this.messages.get(roomName)!.push(message)
    return message
  }
  async editMessage(room: Room, seq: number, user: ChatUser, text: string): Promise<ChangeOutcome> {
    this.call('editMessage')
    return this.change(room, seq, user, 'edited', (message) => ({
      ...message,
      text,
      editedAt: new Date().toISOString(),
    }))
  }
  async deleteMessage(room: Room, seq: number, user: ChatUser): Promise<ChangeOutcome> {
    this.call('deleteMessage')
    return this.change(room, seq, user, 'deleted', (message) => ({ ...message, text: '', deleted: true }))
  }
  async react(room: Room, seq: number, user: ChatUser, emoji: Reaction): Promise<ChangeOutcome> {
    this.call('react')
    return this.change(room, seq, user, 'reactions', (message) => ({
      ...message,
      reactions: [{ emoji, users: [user] }],
    }))
  }
  editHistory(): never {
    throw new Error('not part of the fake chat store')
  }
  private change(
    room: Room,
    seq: number,
    user: ChatUser,
    change: MessageUpdate['change'],
    apply: (message: ChatMessage) => ChatMessage,
  ): ChangeOutcome {
    const messages = this.messages.get(room.name)!
    const at = messages.findIndex((message) => message.seq === seq && !message.deleted)
    if (at === -1) return { refused: 'unknown_message' }
    // anyone reacts; only the author edits and (no roles here) deletes
    if (change !== 'reactions' && messages[at]!.author.id !== user.id) return { refused: 'forbidden' }
    const message = apply(messages[at]!)
    messages[at] = message
    return {
      update: { room: room.name, seq: ++this.rooms.get(room.name)!.lastSeq, change, by: user, message },
    }
  }

  /** A seq taken and never stored, as when two connections race to store one client id. */
  skipSeq(roomName: string): void {
    this.rooms.get(roomName)!.lastSeq++
  }
}

/**
 * Memberships in memory, over the fake chat store's rooms, all public: joining one makes a member. What
 * these tests do not reach (invitations, roles: chat-rooms.test.ts has them on both databases) is refused.
 */
class FakeRoomStore implements RoomStore {
  private readonly memberships = new Set<string>()
  constructor(private readonly chat: FakeChatStore) {}

  private async listing(name: string, userId: string): Promise<RoomListing | undefined> {
    const room = await this.chat.findRoom(name)
    if (!room) return undefined
    const member = this.memberships.has(`${room.id}:${userId}`)
    return {
      record: { ...room, kind: 'public', title: name, topic: '', archived: false },
      role: member ? 'member' : undefined,
      lastReadSeq: member ? 0 : undefined,
      unread: member ? 0 : undefined,
    }
  }
  async roomList(userId: string): Promise<RoomListing[]> {
    const listings = await Promise.all(this.chat.roomNames().map((name) => this.listing(name, userId)))
    return listings.filter((listing) => listing !== undefined)
  }
  roomFor(name: string, userId: string): Promise<RoomListing | undefined> {
    return this.listing(name, userId)
  }
  async addMember(roomId: string, userId: string): Promise<boolean> {
    const key = `${roomId}:${userId}`
    if (this.memberships.has(key)) return false
    this.memberships.add(key)
    return true
  }
  roomById = refused
  createRoom = refused
  openDirect = refused
  removeMember = refused
  roleOf = refused
  setRole = refused
  leave = refused
  members = refused
  updateRoom = refused
  markRead = refused
  findUser = refused
  findUsers = refused
}

function refused(): never {
  throw new Error('not part of the fake room store')
}

/** The in-process bus, able to play a reconnect after which messages may have been missed. */
class ReconnectingBus extends LocalBus {
  private readonly listeners: (() => void)[] = []
  /** the next publish on a channel ending so fails, as Redis going away */
  failingChannels = new Set<string>()
  override async publish(channel: string, message: string): Promise<void> {
    for (const ending of this.failingChannels) {
      if (channel.endsWith(ending) && this.failingChannels.delete(ending))
        throw new Error('publish: connection closed')
    }
    return super.publish(channel, message)
  }
  override onResubscribed(listener: () => void): void {
    this.listeners.push(listener)
  }
  reconnected(): void {
    for (const listener of this.listeners) listener()
  }
}

class FakePeer implements ChatPeer {
  readonly admin = false
  readonly frames: Record<string, unknown>[] = []
  closedWith: { code: number; reason: string } | undefined
  constructor(readonly user: ChatUser) {}
  send(frame: string): void {
    this.frames.push(JSON.parse(frame) as Record<string, unknown>)
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason }
  }
  ofType<T = Record<string, unknown>>(type: string): T[] {
    return this.frames.filter((frame) => frame.type === type) as T[]
  }
  /** the seq of every live `message` frame, in the order received */
  messageSeqs(): number[] {
    return this.ofType<ChatMessage>('message').map((message) => message.seq)
  }
}

describe('ChatConnection and RoomFeeds on a LocalBus, a fake store and fake peers', () => {
  const alice: ChatUser = { id: '1', name: 'Alice', verified: true }
  const bob: ChatUser = { id: '2', name: 'Bob', verified: false }
  let store: FakeChatStore
  let bus: ReconnectingBus
  let hub: ChatHub
  let logLines: Record<string, unknown>[]
  const connections: ChatConnection[] = []

  async function setUp(gapWaitMs?: number) {
    store = new FakeChatStore()
    bus = new ReconnectingBus()
    logLines = []
    const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line)) })
    hub = new ChatHub(
      store,
      new FakeRoomStore(store),
      store,
      bus,
      new MemoryPresenceStore(),
      PREFIX,
      'server-1',
      { historyLimit: 50, maxBatch: 4, messagesPerSecond: 1_000, presenceIntervalMs: 60_000 },
      log,
      createMetrics('test'),
      gapWaitMs,
    )
    await hub.start()
    await store.createRoom('general')
  }
  afterEach(async () => {
    for (const connection of connections.splice(0)) connection.closed()
    await hub.stop()
  })

  async function connect(user: ChatUser, connectionId = 'c1', messagesPerSecond = 1_000) {
    const peer = new FakePeer(user)
    const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line)) })
    const connection = new ChatConnection(
      peer,
      hub,
      { messagesPerSecond, heartbeatMs: 30_000 },
      log.child({ connectionId, userId: user.id }),
    )
    connections.push(connection)
    connection.start()
    await waitUntil('welcome', () => peer.ofType('welcome').length === 1)
    return { peer, connection, say: (message: unknown) => connection.receive(JSON.stringify(message)) }
  }

  async function joined(user: ChatUser, since?: number, messagesPerSecond?: number) {
    const member = await connect(user, 'c1', messagesPerSecond)
    member.say({ type: 'join', room: 'general', ...(since === undefined ? {} : { since }) })
    await waitUntil('joined', () => member.peer.ofType('joined').length === 1)
    return member
  }

  const announce = (message: ChatMessage) =>
    bus.publish(`${PREFIX}room:${message.room}`, `m ${message.seq}\n${messageFrame(message)}`)

  it('acks a send, then delivers it to every member, the sender included', async () => {
    await setUp()
    const [a, b] = [await joined(alice), await joined(bob)]
    a.say({ type: 'send', room: 'general', clientId: 'x', text: 'hello' })
    await waitUntil('delivery', () => b.peer.messageSeqs().length === 1 && a.peer.messageSeqs().length === 1)
    const ackAt = a.peer.frames.findIndex((frame) => frame.type === 'ack')
    const messageAt = a.peer.frames.findIndex((frame) => frame.type === 'message')
    expect(ackAt).toBeGreaterThan(-1)
    expect(ackAt).toBeLessThan(messageAt)
    expect(b.peer.ofType('message')[0]).toMatchObject({ seq: 1, text: 'hello', author: alice })
  })

  it('stores sends arriving while an insert is in flight together (at most maxBatch), acks each with its own seq, delivers all in order', async () => {
    await setUp()
    const senders = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        connect({ id: String(10 + i), name: `s${i}`, verified: true }, `c${i}`),
      ),
    )
    for (const sender of senders) sender.say({ type: 'join', room: 'general' })
    await waitUntil('joined', () => senders.every((sender) => sender.peer.ofType('joined').length === 1))
    const b = await joined(bob)
    senders.forEach((sender, i) =>
      sender.say({ type: 'send', room: 'general', clientId: `k${i}`, text: `t${i}` }),
    )
    await waitUntil('delivery', () => b.peer.messageSeqs().length === 7)
    // the first alone, the six that queued meanwhile in batches of at most 4
    expect(store.batches).toEqual([1, 4, 2])
    const acks = senders.map((sender) => sender.peer.ofType<{ clientId: string; seq: number }>('ack'))
    expect(acks.map((ack) => ack.map(({ clientId, seq }) => ({ clientId, seq })))).toEqual(
      senders.map((_, i) => [{ clientId: `k${i}`, seq: i + 1 }]),
    )
    expect(b.peer.messageSeqs()).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(b.peer.ofType<ChatMessage>('message').map((message) => message.text)).toEqual(
      senders.map((_, i) => `t${i}`),
    )
  })

  it('takes one connection’s next sends while its first is being stored, and acks them all in the order sent', async () => {
    await setUp()
    const a = await joined(alice)
    for (let i = 0; i < 6; i++) a.say({ type: 'send', room: 'general', clientId: `p${i}`, text: `t${i}` })
    await waitUntil('acks', () => a.peer.ofType('ack').length === 6)
    expect(store.batches).toEqual([1, 4, 1])
    expect(
      a.peer.ofType<{ clientId: string; seq: number }>('ack').map(({ clientId, seq }) => [clientId, seq]),
    ).toEqual(Array.from({ length: 6 }, (_, i) => [`p${i}`, i + 1]))
    await waitUntil('delivery', () => a.peer.messageSeqs().length === 6)
    expect(a.peer.messageSeqs()).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('holds an early seq until the one before it arrives, then delivers both in order', async () => {
    await setUp(500)
    const b = await joined(bob)
    const first = store.store('general', alice, 'a', 'first')
    const second = store.store('general', alice, 'b', 'second')
    await announce(second)
    await sleep(100)
    expect(b.peer.messageSeqs()).toEqual([]) // waiting for seq 1, well within the gap wait
    await announce(first)
    await waitUntil('both', () => b.peer.messageSeqs().length === 2)
    expect(b.peer.messageSeqs()).toEqual([1, 2])
  })

  it('reads a lost announcement from the store once the gap wait is over, in order', async () => {
    await setUp(60)
    const b = await joined(bob)
    store.store('general', alice, 'a', 'lost on the bus')
    await announce(store.store('general', alice, 'b', 'heard'))
    await waitUntil('gap filled', () => b.peer.messageSeqs().length === 2)
    expect(b.peer.messageSeqs()).toEqual([1, 2])
  })

  it('skips a seq that never committed after the gap wait, and goes on without waiting again', async () => {
    await setUp(60)
    const b = await joined(bob)
    await announce(store.store('general', alice, 'a', 'one'))
    store.skipSeq('general')
    await announce(store.store('general', alice, 'c', 'three'))
    await waitUntil('three', () => b.peer.messageSeqs().length === 2)
    expect(b.peer.messageSeqs()).toEqual([1, 3])
    const started = Date.now()
    await announce(store.store('general', alice, 'd', 'four'))
    await waitUntil('four', () => b.peer.messageSeqs().length === 3)
    expect(Date.now() - started).toBeLessThan(60) // in order now: no gap wait
  })

  it('catches up after the bus reconnects with what was stored meanwhile, in order', async () => {
    await setUp()
    const b = await joined(bob)
    for (let i = 0; i < 3; i++) store.store('general', alice, `missed-${i}`, `missed ${i}`)
    bus.reconnected()
    await waitUntil('caught up', () => b.peer.messageSeqs().length === 3)
    expect(b.peer.messageSeqs()).toEqual([1, 2, 3])
    await announce(store.store('general', alice, 'live', 'live again'))
    await waitUntil('live', () => b.peer.messageSeqs().length === 4)
    expect(b.peer.messageSeqs()).toEqual([1, 2, 3, 4])
  })

  it('catches up over more than one page, past a hole at the end, then goes on live without a gap wait', async () => {
    await setUp(10_000)
    const b = await joined(bob)
    const missed = HISTORY_PAGE_MAX + 20
    for (let i = 1; i <= missed; i++) store.store('general', alice, `m${i}`, `m${i}`)
    store.skipSeq('general')
    bus.reconnected()
    await waitUntil('caught up', () => b.peer.messageSeqs().length === missed)
    expect(b.peer.messageSeqs()).toEqual(Array.from({ length: missed }, (_, i) => i + 1))
    // the hole at missed + 1 was passed by the catch-up's bound: no 10 s gap wait for the next one
    await announce(store.store('general', alice, 'live', 'live'))
    await waitUntil('live', () => b.peer.messageSeqs().length === missed + 1, 1_000)
    expect(b.peer.messageSeqs().at(-1)).toBe(missed + 2)
  })

  it('answers a join since 0 with one bounded page and done: false, then pages on with history after', async () => {
    await setUp()
    for (let i = 1; i <= HISTORY_PAGE_MAX + 20; i++) store.store('general', alice, `m${i}`, `m${i}`)
    const b = await joined(bob, 0)
    const [first] = b.peer.ofType<HistoryPage>('history')
    expect(first!.messages).toHaveLength(HISTORY_PAGE_MAX)
    expect(first).toMatchObject({ done: false, hasOlder: false })
    b.say({ type: 'history', room: 'general', after: HISTORY_PAGE_MAX })
    await waitUntil('second page', () => b.peer.ofType('history').length === 2)
    const second = b.peer.ofType<HistoryPage>('history')[1]!
    expect(second.messages.map((message) => message.seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => HISTORY_PAGE_MAX + 1 + i),
    )
    expect(second).toMatchObject({ done: true, hasOlder: true })
  })

  it('logs an unexpected error once with room, connection and user, and answers unavailable with the ref', async () => {
    await setUp()
    const a = await joined(alice)
    store.failing.add('insertMessages')
    a.say({ type: 'send', room: 'general', clientId: 'doomed', text: 'lost' })
    await waitUntil('error', () => a.peer.ofType('error').length === 1)
    expect(a.peer.ofType('error')[0]).toMatchObject({ code: 'unavailable', ref: 'doomed', stored: false })
    const logged = logLines.filter((line) => line.msg === 'chat request failed')
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatchObject({
      level: 50,
      room: 'general',
      ref: 'doomed',
      connectionId: 'c1',
      userId: alice.id,
      err: { message: 'insertMessages: connection terminated unexpectedly' },
    })
  })

  it('says its rate in welcome, and refuses a send over it naming the send and that it was not stored', async () => {
    await setUp()
    const a = await joined(alice, undefined, 2)
    expect(a.peer.ofType('welcome')[0]).toMatchObject({ messagesPerSecond: 2 })
    // the join took one of the burst of 4; the fifth frame and later are over budget
    for (let i = 1; i <= 5; i++) a.say({ type: 'send', room: 'general', clientId: `fast-${i}`, text: `${i}` })
    await waitUntil('acks', () => a.peer.ofType('ack').length === 3)
    expect(a.peer.ofType('error')).toEqual([
      {
        type: 'error',
        code: 'rate_limited',
        message: 'Slow down: at most 2 messages a second',
        ref: 'fast-4',
        stored: false,
      },
      {
        type: 'error',
        code: 'rate_limited',
        message: 'Slow down: at most 2 messages a second',
        ref: 'fast-5',
        stored: false,
      },
    ])
  })

  it('says a send whose announcement failed is stored: ack, then unavailable with stored: true', async () => {
    await setUp()
    const a = await joined(alice)
    bus.failingChannels.add('room:general')
    a.say({ type: 'send', room: 'general', clientId: 'kept', text: 'stored, not announced' })
    await waitUntil('error', () => a.peer.ofType('error').length === 1)
    expect(a.peer.ofType('ack')).toMatchObject([{ clientId: 'kept', seq: 1 }])
    expect(a.peer.ofType('error')[0]).toMatchObject({ code: 'unavailable', ref: 'kept', stored: true })
    expect(logLines.filter((line) => line.msg === 'chat request failed')).toMatchObject([
      { ref: 'kept', err: { message: 'publish: connection closed' } },
    ])
  })

  it('says an edit, deletion or reaction whose announcement failed is saved: its ref, stored: true, no "try again"', async () => {
    await setUp()
    const a = await joined(alice)
    const message = store.store('general', alice, 'mine', 'to be changed')
    const changes = [
      { type: 'edit', room: 'general', seq: message.seq, text: 'changed', ref: 'edit-1' },
      { type: 'react', room: 'general', seq: message.seq, emoji: '🎉', on: true, ref: 'react-1' },
      { type: 'delete', room: 'general', seq: message.seq, ref: 'delete-1' },
    ]
    for (const [index, change] of changes.entries()) {
      bus.failingChannels.add('room:general')
      a.say(change)
      await waitUntil(`error ${index + 1}`, () => a.peer.ofType('error').length === index + 1)
    }
    expect(a.peer.ofType('error')).toEqual(
      changes.map(({ ref }) => ({
        type: 'error',
        code: 'unavailable',
        message: 'Saved; others will see it when they next open the room',
        ref,
        stored: true,
      })),
    )
    // each was stored once: its own event, nothing applied twice
    const changeCalls = new Set(['editMessage', 'react', 'deleteMessage'])
    expect(store.calls.filter((call) => changeCalls.has(call))).toEqual([
      'editMessage',
      'react',
      'deleteMessage',
    ])
    expect(logLines.filter((line) => line.msg === 'chat request failed')).toMatchObject(
      changes.map(({ ref, type }) => ({ ref, type, err: { message: 'publish: connection closed' } })),
    )

    // a client of before, naming no ref, is told the same truth in words
    const other = store.store('general', alice, 'other', 'another')
    bus.failingChannels.add('room:general')
    a.say({ type: 'edit', room: 'general', seq: other.seq, text: 'changed too' })
    await waitUntil('error 4', () => a.peer.ofType('error').length === 4)
    expect(a.peer.ofType('error')[3]).toEqual({
      type: 'error',
      code: 'unavailable',
      message: 'Saved; others will see it when they next open the room',
    })
  })

  it('names a refused change by its ref, with stored: false: refused by right, as invalid, over the rate', async () => {
    await setUp()
    const b = await joined(bob, undefined, 2)
    const message = store.store('general', alice, 'hers', 'not bob’s')
    b.say({ type: 'edit', room: 'general', seq: message.seq, text: 'bob was here', ref: 'not-mine' })
    b.say({ type: 'edit', room: 'general', seq: message.seq, text: '', ref: 'empty' })
    // the join took one of the burst of 4: the fifth frame is over budget
    b.say({ type: 'react', room: 'general', seq: message.seq, emoji: '👍', on: true, ref: 'fine' })
    b.say({ type: 'delete', room: 'general', seq: message.seq, ref: 'too-fast' })
    await waitUntil('errors', () => b.peer.ofType('error').length === 3)
    await waitUntil('the reaction', () => b.peer.ofType('message_updated').length === 1)
    expect(namedErrors(b.peer)).toEqual([
      { code: 'rate_limited', ref: 'too-fast', stored: false },
      { code: 'forbidden', ref: 'not-mine', stored: false },
      { code: 'invalid_message', ref: 'empty', stored: false },
    ])
  })

  it('names an edit_history question by its ref in any error answering it, without stored: it is a read', async () => {
    await setUp()
    const a = await connect(alice, 'c1')
    a.say({ type: 'edit_history', room: 'general', seq: 1, ref: 'not-joined' })
    await waitUntil('not joined', () => a.peer.ofType('error').length === 1)
    a.say({ type: 'join', room: 'general' })
    await waitUntil('joined', () => a.peer.ofType('joined').length === 1)
    // the fake store cannot read earlier texts: an unexpected failure, as a database gone away
    a.say({ type: 'edit_history', room: 'general', seq: 1, ref: 'failed' })
    await waitUntil('unavailable', () => a.peer.ofType('error').length === 2)
    expect(namedErrors(a.peer)).toEqual([
      { code: 'not_joined', ref: 'not-joined', stored: undefined },
      { code: 'unavailable', ref: 'failed', stored: undefined },
    ])
  })

  it('tells the room a typer stopped when the typer leaves or disconnects', async () => {
    await setUp()
    const b = await joined(bob)
    const typed = () => b.peer.ofType<{ user: ChatUser; typing: boolean }>('typing')
    const a = await joined(alice)
    a.say({ type: 'typing', room: 'general', typing: true })
    a.say({ type: 'leave', room: 'general' })
    await waitUntil('typing false on leave', () => typed().length === 2)
    expect(typed().map(({ user, typing }) => [user.id, typing])).toEqual([
      [alice.id, true],
      [alice.id, false],
    ])
    a.say({ type: 'join', room: 'general' })
    await waitUntil('rejoined', () => a.peer.ofType('joined').length === 2)
    a.say({ type: 'typing', room: 'general', typing: true })
    await waitUntil('typing again', () => typed().length === 3)
    a.connection.closed()
    await waitUntil('typing false on close', () => typed().length === 4)
    expect(typed()[3]).toMatchObject({ user: alice, typing: false })
  })

  it('answers a join of a room already joined with a page and joined, telling nobody of a leave and return', async () => {
    await setUp()
    const b = await joined(bob)
    const a = await joined(alice)
    const presence = () => b.peer.ofType<{ online: ChatUser[] }>('presence')
    await waitUntil('alice seen online', () => presence().at(-1)?.online.length === 2)
    const presenceBefore = presence().length
    a.say({ type: 'send', room: 'general', clientId: 'x', text: 'one' })
    await waitUntil('delivered', () => a.peer.messageSeqs().length === 1)
    a.say({ type: 'join', room: 'general', since: 0 })
    await waitUntil('joined again', () => a.peer.ofType('joined').length === 2)
    expect(
      a.peer
        .ofType<HistoryPage>('history')
        .at(-1)!
        .messages.map((message) => message.seq),
    ).toEqual([1])
    expect(a.peer.ofType('joined')[1]).toMatchObject({ online: expect.arrayContaining([alice, bob]) })
    a.say({ type: 'send', room: 'general', clientId: 'y', text: 'two' })
    await waitUntil('delivered once', () => b.peer.messageSeqs().length === 2)
    await sleep(50)
    expect(presence()).toHaveLength(presenceBefore) // no "alice left", no second "alice is back"
    expect(a.peer.messageSeqs()).toEqual([1, 2])
  })

  it('logs a failed gap fill with its room, and fills the gap once the store answers again', async () => {
    await setUp(40)
    const b = await joined(bob)
    store.store('general', alice, 'a', 'lost on the bus')
    store.failing.add('logAfter')
    await announce(store.store('general', alice, 'b', 'heard'))
    await waitUntil('logged', () => logLines.some((line) => line.msg === 'room gap fill failed'))
    expect(logLines.find((line) => line.msg === 'room gap fill failed')).toMatchObject({ room: 'general' })
    await announce(store.store('general', alice, 'c', 'next'))
    await waitUntil('gap filled', () => b.peer.messageSeqs().length === 3)
    expect(b.peer.messageSeqs()).toEqual([1, 2, 3])
  })

  it('works off nothing a closed connection had queued', async () => {
    await setUp()
    const a = await joined(alice)
    const before = store.calls.length
    a.say({ type: 'history', room: 'general', before: 100 })
    a.say({ type: 'history', room: 'general', before: 50 })
    a.connection.closed()
    await sleep(20)
    expect(store.calls.slice(before).filter((call) => call === 'historyPage')).toEqual([])
    expect(a.peer.ofType('history')).toHaveLength(1) // the join's only
  })

  it('leaves a room whose join was under way when the socket closed, so nobody stays online for good', async () => {
    await setUp()
    const a = await connect(alice)
    const findRoom = store.findRoom.bind(store)
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    store.findRoom = async (name) => {
      await gate
      return findRoom(name)
    }
    a.say({ type: 'join', room: 'general' })
    await sleep(10) // the join now waits in findRoom
    a.connection.closed()
    store.findRoom = findRoom
    release()
    await sleep(50)
    const b = await joined(bob)
    expect(b.peer.ofType('joined')[0]).toMatchObject({ online: [bob] })
  })
})
