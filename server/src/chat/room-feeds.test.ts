import type { ChatMessage } from '@chat/contract'
import { sql } from 'kysely'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createDatabase, type Db } from '../db/database.ts'
import { migrate } from '../db/migrator.ts'
import { testPgliteDir } from '../test/pglite-template.ts'
import { LocalBus, type Bus, type BusHandler } from '../bus/bus.ts'
import { createMetrics, type Metrics } from '../metrics/metrics.ts'
import { UserRepository, type User } from '../users/user-repository.ts'
import { ChatRepository, type Room } from './chat-repository.ts'
import {
  activityFrame,
  editNews,
  messageFrame,
  RoomFeeds,
  updateFrame,
  type RoomMember,
} from './room-feeds.ts'
import { RoomRepository } from './room-repository.ts'
import { TokenBucket } from './token-bucket.ts'

const PREFIX = 'test:'
const GAP_WAIT_MS = 80

/** every log line, parsed: the feeds log their unexpected errors here */
const logLines: { level: number; msg: string; room?: string; err?: { message: string } }[] = []
const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line)) })

const flush = () => new Promise((resolve) => setImmediate(resolve))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A LocalBus that records (un)subscriptions and publications, and can play a reconnect. */
class RecordingBus implements Bus {
  private readonly local = new LocalBus()
  readonly subscribed: { channel: string; handler: BusHandler }[] = []
  readonly unsubscribed: { channel: string; handler: BusHandler }[] = []
  readonly published: { channel: string; message: string }[] = []
  /** runs right after a subscription is made, before `subscribe` returns */
  afterSubscribe: ((channel: string, handler: BusHandler) => Promise<void>) | undefined
  private readonly resubscribed: (() => void)[] = []

  async publish(channel: string, message: string): Promise<void> {
    this.published.push({ channel, message })
    return this.local.publish(channel, message)
  }
  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    this.subscribed.push({ channel, handler })
    await this.local.subscribe(channel, handler)
    await this.afterSubscribe?.(channel, handler)
  }
  async unsubscribe(channel: string, handler: BusHandler): Promise<void> {
    this.unsubscribed.push({ channel, handler })
    return this.local.unsubscribe(channel, handler)
  }
  onResubscribed(listener: () => void): void {
    this.resubscribed.push(listener)
  }
  close(): Promise<void> {
    return this.local.close()
  }
  reconnected(): void {
    for (const listener of this.resubscribed) listener()
  }
}

class RecordingMember implements RoomMember {
  readonly got: { room: string; seq: number | undefined; frame: string }[] = []
  deliver(room: string, seq: number | undefined, frame: string): void {
    this.got.push({ room, seq, frame })
  }
  seqs(): (number | undefined)[] {
    return this.got.map((delivery) => delivery.seq)
  }
}

/** Polls until `condition` holds, for at most `timeoutMs`. */
async function waitUntil(what: string, condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

describe('RoomFeeds on a LocalBus and a real ChatRepository (PGlite)', () => {
  let db: Db
  let repository: ChatRepository
  let author: User
  let feeds: RoomFeeds
  let bus: RecordingBus
  let presenceSignals: string[]
  let metrics: Metrics
  const members: { room: string; member: RecordingMember }[] = []
  let rooms = 0
  let pglite: ReturnType<typeof testPgliteDir>

  beforeAll(async () => {
    pglite = testPgliteDir()
    db = createDatabase({ kind: 'pglite', dataDir: pglite.dataDir })
    await migrate(db, 'latest')
    repository = new ChatRepository(db)
    author = (await new UserRepository(db).insert({ email: 'author@example.com', passwordHash: 'x' }))!
  })
  afterAll(async () => {
    await db.destroy()
    pglite.drop()
  })

  function newFeeds(gapWaitMs = GAP_WAIT_MS) {
    bus = new RecordingBus()
    presenceSignals = []
    metrics = createMetrics('test')
    const onPresence = (room: string) => presenceSignals.push(room)
    feeds = new RoomFeeds(bus, repository, PREFIX, onPresence, log, metrics, gapWaitMs)
  }
  afterEach(async () => {
    // leaving clears any gap timer still set
    for (const { room, member } of members.splice(0)) await feeds.leave(room, member)
  })

  async function newRoom(): Promise<Room> {
    const name = `room-${++rooms}`
    expect(await new RoomRepository(db).createRoom(name, 'public', name, '', author.id)).toBeDefined()
    return (await repository.findRoom(name))!
  }

  async function join(room: Room): Promise<RecordingMember> {
    const member = new RecordingMember()
    await feeds.join(room, member)
    members.push({ room: room.name, member })
    return member
  }

  let clientIds = 0
  const chatAuthor = () => ({ id: author.id, name: author.displayName, verified: author.confirmed })
  const store = async (room: Room, text = `message ${clientIds + 1}`) =>
    (
      await repository.insertMessages(room, [
        { author: chatAuthor(), clientId: `client-${++clientIds}`, text },
      ])
    )[0]!.message

  /** A seq taken and never stored, as when two connections race to store one client id. */
  const skipSeq = (room: Room) =>
    sql`update rooms set last_seq = last_seq + 1 where id = ${room.id}`.execute(db).then(() => {})

  /** What `publishMessages` sends for one message, published by hand so the test chooses the order. */
  const announce = async (message: ChatMessage) => {
    await bus.publish(feeds.channel(message.room), `m ${message.seq}\n${messageFrame(message)}`)
    await flush()
  }

  it('announces a stored message on <prefix>room:<name> as "m <seq>" and its frame', async () => {
    newFeeds()
    const room = await newRoom()
    const message = await store(room, 'hello')
    await feeds.publishMessages([message])
    expect(bus.published).toEqual([
      { channel: `${PREFIX}room:${room.name}`, message: `m ${message.seq}\n${messageFrame(message)}` },
    ])
    expect(JSON.parse(messageFrame(message))).toEqual({ type: 'message', ...message })
  })

  it('serialises activity as the protocol has it, `mentioned` only when true, each entry anew', () => {
    expect(activityFrame('general', 7, false)).toBe('{"type":"activity","room":"general","seq":7}')
    expect(activityFrame('general', 7, true)).toBe(
      '{"type":"activity","room":"general","seq":7,"mentioned":true}',
    )
    expect(activityFrame('general', 7, false)).toBe('{"type":"activity","room":"general","seq":7}')
    expect(activityFrame('general', 8, false)).toBe('{"type":"activity","room":"general","seq":8}')
    expect(activityFrame('other', 8, true)).toBe(
      '{"type":"activity","room":"other","seq":8,"mentioned":true}',
    )
  })

  it('reads an edit frame’s news once however many members it is handed to, and each frame anew', () => {
    const author = { id: '1', name: 'Ada', verified: true }
    const message: ChatMessage = {
      room: 'general',
      seq: 3,
      id: '3',
      author,
      clientId: 'c3',
      text: '@room '.repeat(1_000),
      at: new Date(0).toISOString(),
      mentionsRoom: true,
    }
    const frame = updateFrame({
      room: 'general',
      seq: 9,
      change: 'edited',
      by: author,
      message,
      mentionsRoomAdded: true,
      mentionedBefore: ['2'],
    })
    const parse = vi.spyOn(JSON, 'parse')
    try {
      const seen = Array.from({ length: 100 }, () => editNews(frame))
      expect(parse).toHaveBeenCalledTimes(1)
      expect(seen[99]).toEqual({
        change: 'edited',
        authorId: '1',
        messageSeq: 3,
        mentionsAdded: [],
        mentionsRoomAdded: true,
        mentionedBefore: ['2'],
      })
      // another entry (or the same seq of a room made again) is read for itself
      const other = updateFrame({ room: 'general', seq: 9, change: 'edited', by: author, message })
      expect(editNews(other).mentionsRoomAdded).toBe(false)
      expect(parse).toHaveBeenCalledTimes(2)
    } finally {
      parse.mockRestore()
    }
  })

  it('announces a stored batch in one bus message, seqs then frames, and members get each frame in order', async () => {
    newFeeds()
    const room = await newRoom()
    const member = await join(room)
    const batch = await repository.insertMessages(
      room,
      ['one', 'two\nlines', 'three'].map((text) => ({
        author: chatAuthor(),
        clientId: `client-${++clientIds}`,
        text,
      })),
    )
    const messages = batch.map((stored) => stored.message)
    await feeds.publishMessages(messages)
    await flush()
    expect(bus.published).toEqual([
      { channel: `${PREFIX}room:${room.name}`, message: `m 1 2 3\n${messages.map(messageFrame).join('\n')}` },
    ])
    expect(member.got).toEqual(
      messages.map((message) => ({ room: room.name, seq: message.seq, frame: messageFrame(message) })),
    )
  })

  it('stores a batch under consecutive seqs in batch order; a client id stored before or twice in the batch is stored once', async () => {
    const room = await newRoom()
    const stored = (await new UserRepository(db).insert({ email: 'other@example.com', passwordHash: 'x' }))!
    const other = { id: stored.id, name: stored.displayName, verified: stored.confirmed }
    const me = chatAuthor()
    const [earlier] = await repository.insertMessages(room, [
      { author: me, clientId: 'earlier', text: 'before' },
    ])
    const results = await repository.insertMessages(room, [
      { author: me, clientId: 'a', text: 'first' },
      { author: me, clientId: 'earlier', text: 'a re-send' },
      { author: other, clientId: 'a', text: 'same client id, other user' },
      { author: me, clientId: 'a', text: 'a re-send in the same batch' },
      { author: me, clientId: 'b', text: 'last' },
    ])
    expect(
      results.map(({ message, created }) => [message.seq, message.clientId, message.text, created]),
    ).toEqual([
      [2, 'a', 'first', true],
      [1, 'earlier', 'before', false],
      [3, 'a', 'same client id, other user', true],
      [2, 'a', 'first', false],
      [4, 'b', 'last', true],
    ])
    expect(results[1]!.message.id).toBe(earlier!.message.id)
    expect(results[2]!.message.author).toEqual(other)
    expect((await repository.findRoom(room.name))!.lastSeq).toBe(4)
    const kept = await repository.logAfter(room, 0, 10)
    expect(kept.map((entry) => 'message' in entry && [entry.message.seq, entry.message.text])).toEqual([
      [1, 'before'],
      [2, 'first'],
      [3, 'same client id, other user'],
      [4, 'last'],
    ])
  })

  it('delivers announcements that crossed on the bus in seq order, without waiting for the database', async () => {
    // a gap wait far longer than the test looks: anything delivered came from the bus
    newFeeds(5_000)
    const room = await newRoom()
    const [first, second] = [await join(room), await join(room)]
    const [one, two, three] = [await store(room), await store(room), await store(room)]
    await announce(two!)
    await announce(three!)
    expect(first.got).toEqual([])
    await announce(one!)
    for (const member of [first, second]) {
      expect(member.got).toEqual(
        [one, two, three].map((m) => ({ room: room.name, seq: m!.seq, frame: messageFrame(m!) })),
      )
    }
  })

  it('reads a message whose announcement was lost from the database once the gap wait is over', async () => {
    newFeeds()
    const room = await newRoom()
    const member = await join(room)
    const [one, two, three] = [await store(room), await store(room), await store(room)]
    await announce(one!)
    const announcedAt = performance.now()
    await announce(three!)
    expect(member.seqs()).toEqual([1])
    await sleep(GAP_WAIT_MS / 2)
    expect(member.seqs()).toEqual([1])
    await waitUntil('the gap filled', () => member.got.length === 3)
    expect(performance.now() - announcedAt).toBeGreaterThanOrEqual(GAP_WAIT_MS - 5)
    expect(member.got.map((delivery) => delivery.frame)).toEqual(
      [one, two, three].map((m) => messageFrame(m!)),
    )
    expect((await metrics.gapFills.get()).values[0]?.value).toBe(1)
    // the lost one's announcement turning up late is not delivered again; the next one comes at once
    await announce(two!)
    const four = await store(room)
    await announce(four)
    expect(member.seqs()).toEqual([1, 2, 3, 4])
  })

  it('skips a seq that was never stored after the gap wait, and carries on without waiting again', async () => {
    newFeeds()
    const room = await newRoom()
    const member = await join(room)
    const one = await store(room)
    await skipSeq(room)
    const three = await store(room)
    expect(three.seq).toBe(3)
    await announce(one)
    await announce(three)
    expect(member.seqs()).toEqual([1])
    await waitUntil('the hole skipped', () => member.got.length === 2)
    expect(member.seqs()).toEqual([1, 3])
    const four = await store(room)
    await announce(four)
    expect(member.seqs()).toEqual([1, 3, 4])
    // two holes in a row, and a lost announcement after them
    await skipSeq(room)
    await skipSeq(room)
    const [seven, eight] = [await store(room), await store(room)]
    await announce(eight)
    await waitUntil('the holes skipped and the lost one read', () => member.got.length === 5)
    expect(member.seqs()).toEqual([1, 3, 4, 7, 8])
    expect(member.got[3]!.frame).toBe(messageFrame(seven))
  })

  it('delivers each message once, however often it is announced', async () => {
    newFeeds()
    const room = await newRoom()
    const [first, second] = [await join(room), await join(room)]
    const [one, two] = [await store(room), await store(room)]
    for (const message of [one, one, two, one, two, two]) await announce(message!)
    for (const member of [first, second]) expect(member.seqs()).toEqual([1, 2])
  })

  it('passes events to every member in order, unnumbered, and presence signals to the hub only', async () => {
    newFeeds()
    const room = await newRoom()
    const [first, second] = [await join(room), await join(room)]
    await feeds.publishEvent(room.name, '{"type":"typing","typing":true}')
    await feeds.publishPresenceSignal(room.name)
    await feeds.publishEvent(room.name, '{"type":"typing","typing":false}')
    await flush()
    for (const member of [first, second]) {
      expect(member.got).toEqual([
        { room: room.name, seq: undefined, frame: '{"type":"typing","typing":true}' },
        { room: room.name, seq: undefined, frame: '{"type":"typing","typing":false}' },
      ])
    }
    expect(presenceSignals).toEqual([room.name])
  })

  it('leaves the bus only when the last member leaves, and then delivers nothing', async () => {
    newFeeds()
    const room = await newRoom()
    const [first, second] = [new RecordingMember(), new RecordingMember()]
    await feeds.join(room, first)
    await feeds.join(room, second)
    expect(bus.subscribed).toHaveLength(1)
    const [{ channel, handler }] = bus.subscribed as [{ channel: string; handler: BusHandler }]
    expect(channel).toBe(`${PREFIX}room:${room.name}`)

    await feeds.leave(room.name, first)
    expect(bus.unsubscribed).toEqual([])
    const one = await store(room)
    await announce(one)
    expect(first.seqs()).toEqual([])
    expect(second.seqs()).toEqual([1])

    await feeds.leave(room.name, second)
    expect(bus.unsubscribed).toEqual([{ channel, handler }])
    expect(await feeds.membersOf(room.name)).toBeUndefined()
    const two = await store(room)
    await announce(two)
    expect(second.seqs()).toEqual([1])

    // joining again subscribes again, from the room's current seq: nothing stale, the next one at once
    const again = await join(room)
    expect(bus.subscribed).toHaveLength(2)
    await announce(two)
    const three = await store(room)
    await announce(three)
    expect(again.seqs()).toEqual([3])
  })

  it('subscribes once for members joining together, and delivers to all of them', async () => {
    newFeeds()
    const room = await newRoom()
    const joining = [new RecordingMember(), new RecordingMember(), new RecordingMember()]
    await Promise.all(joining.map((member) => feeds.join(room, member)))
    members.push(...joining.map((member) => ({ room: room.name, member })))
    expect(bus.subscribed).toHaveLength(1)
    const one = await store(room)
    await announce(one)
    for (const member of joining) expect(member.seqs()).toEqual([1])
  })

  it('drops announcements heard while opening that the room had already counted, keeps later ones', async () => {
    newFeeds()
    const room = await newRoom()
    const before = await store(room)
    let opening: ChatMessage | undefined
    // between the subscription and the read of the room's last seq: a message commits and is announced
    bus.afterSubscribe = async (_channel, handler) => {
      bus.afterSubscribe = undefined
      opening = await store(room)
      handler(`m ${before.seq}\n${messageFrame(before)}`)
      handler(`m ${opening.seq}\n${messageFrame(opening)}`)
    }
    const member = await join(room)
    // both were stored before the read: a joining client gets them as history, not live
    const after = await store(room)
    await announce(after)
    expect(opening?.seq).toBe(2)
    expect(member.seqs()).toEqual([3])
  })

  it('reads what was stored while the bus was away once it is back', async () => {
    newFeeds()
    const room = await newRoom()
    const member = await join(room)
    const one = await store(room)
    await announce(one)
    const missed = [await store(room), await store(room), await store(room)]
    bus.reconnected()
    await waitUntil('the missed messages', () => member.got.length === 4)
    expect(member.got.slice(1).map((delivery) => delivery.frame)).toEqual(missed.map(messageFrame))
    expect((await metrics.catchUps.get()).values[0]?.value).toBe(1)
    expect((await metrics.gapFills.get()).values[0]?.value ?? 0).toBe(0)
    // their announcements, had any survived, are not delivered again
    for (const message of missed) await announce(message)
    expect(member.seqs()).toEqual([1, 2, 3, 4])
  })
})

describe('TokenBucket with an injected clock', () => {
  const clock = (start = 1_000) => {
    const state = { now: start }
    return { state, now: () => state.now }
  }
  const takeAll = (bucket: TokenBucket, max = 1_000) => {
    let taken = 0
    while (taken < max && bucket.take()) taken++
    return taken
  }

  it('starts full at twice the rate, then refuses', () => {
    const { now } = clock()
    const bucket = new TokenBucket(10, undefined, now)
    expect(takeAll(bucket)).toBe(20)
    expect(bucket.take()).toBe(false)
  })

  it('refills at the rate, fractions adding up across refused takes', () => {
    const { state, now } = clock()
    const bucket = new TokenBucket(10, undefined, now)
    takeAll(bucket)
    state.now += 50 // half a token
    expect(bucket.take()).toBe(false)
    state.now += 50 // the other half
    expect(bucket.take()).toBe(true)
    expect(bucket.take()).toBe(false)
    state.now += 1_000
    expect(takeAll(bucket)).toBe(10)
  })

  it('never holds more than its capacity, however long it idles', () => {
    const { state, now } = clock()
    const bucket = new TokenBucket(5, 7, now)
    expect(takeAll(bucket)).toBe(7)
    state.now += 60 * 60 * 1_000
    expect(takeAll(bucket)).toBe(7)
  })

  it('allows the rate, and no more, when taken steadily', () => {
    const { state, now } = clock()
    const bucket = new TokenBucket(4, undefined, now)
    takeAll(bucket)
    let taken = 0
    // an eighth of a second is half a token at 4 a second (exact in binary floating point)
    for (let step = 0; step < 80; step++) {
      state.now += 125
      if (bucket.take()) taken++
    }
    expect(taken).toBe(40)
  })
})
