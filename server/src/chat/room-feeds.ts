import { HISTORY_PAGE_MAX, type ChatMessage, type MessageUpdate, type ServerMessage } from '@chat/contract'
import type { FastifyBaseLogger } from 'fastify'
import type { Bus } from '../bus/bus.ts'
import type { Metrics } from '../metrics/metrics.ts'
import { entrySeq, type ChatStore, type LogEntry, type Room } from './chat-repository.ts'

/** Whoever is in a room on this process: gets each frame of it once, messages in `seq` order. */
export interface RoomMember {
  /** `seq` for a stored message, undefined for a passing event (typing); `frame` is ready-made JSON */
  deliver(room: string, seq: number | undefined, frame: string): void
}

/** The one serialisation of a message, whoever sends it: the publisher, or a process filling a gap. */
export const messageFrame = (message: ChatMessage) => JSON.stringify({ type: 'message', ...message })
/** The one serialisation of an edit, deletion or reaction change, likewise. */
export const updateFrame = (update: MessageUpdate) => JSON.stringify({ type: 'message_updated', ...update })
export const entryFrame = (entry: LogEntry) =>
  'message' in entry ? messageFrame(entry.message) : updateFrame(entry.update)

/** the `activity` frames of the last entry one was built for: without and with `mentioned` */
let lastActivity: { room: string; seq: number; frames: [plain?: string, mentioned?: string] } | undefined
/**
 * The one serialisation of `activity` for a stored entry, for each member that lists its room without
 * having joined it: they are handed the same entry one after another, so the frame is built once per entry
 * (and per answer to "mentions you?") and reused, as the entry's own frame is.
 */
export function activityFrame(room: string, seq: number, mentioned: boolean): string {
  if (lastActivity?.room !== room || lastActivity.seq !== seq) lastActivity = { room, seq, frames: [] }
  return (lastActivity.frames[mentioned ? 1 : 0] ??= JSON.stringify({
    type: 'activity',
    room,
    seq,
    ...(mentioned && { mentioned }),
  } satisfies ServerMessage))
}

/** What an edit's live frame says of whom it newly mentions: all `ChatConnection.editActivity` reads of it. */
export interface EditNews {
  change: MessageUpdate['change']
  authorId: string
  messageSeq: number
  mentionsAdded: readonly string[]
  mentionsRoomAdded: boolean
  mentionedBefore: readonly string[]
}
/** the last room frame parsed, and what it held (the same string object: compared by reference first) */
let lastParsed: { frame: string; value: unknown } | undefined

/**
 * A room frame parsed once per entry: every member listing the room without having joined it is handed the
 * same frame one after another to read what it says of mentions, and a frame may be as long as a message.
 */
export function parsedFrame(frame: string): unknown {
  if (lastParsed?.frame !== frame) lastParsed = { frame, value: JSON.parse(frame) }
  return lastParsed.value
}

/** The news of an update frame (parsed once per entry: `parsedFrame`). */
export function editNews(frame: string): EditNews {
  const update = parsedFrame(frame) as MessageUpdate
  return {
    change: update.change,
    authorId: update.message.author.id,
    messageSeq: update.message.seq,
    mentionsAdded: update.mentionsAdded ?? [],
    mentionsRoomAdded: update.mentionsRoomAdded === true,
    mentionedBefore: update.mentionedBefore ?? [],
  }
}

// Bus payloads on `<prefix>room:<name>`: "m <seq>…\n<frame>…" messages (one or a stored batch: their seqs
// space-separated, their frames newline-separated; JSON frames hold no raw newline), "e\n<frame>" an event,
// "p" presence.

class RoomFeed {
  /** the highest `seq` delivered here with nothing missing below it; -1 until the room's state is read */
  lastSeq = -1
  readonly pending = new Map<number, string>()
  readonly members = new Set<RoomMember>()
  gapTimer: NodeJS.Timeout | undefined
  constructor(
    readonly room: Room,
    readonly handler: (payload: string) => void,
  ) {}
}

/**
 * One subscription per room per process, and in-order, gap-free delivery to its members. Messages of a
 * room commit in `seq` order (the room row is locked to number them), but their announcements can cross
 * on the bus; a message that arrives early waits briefly for the ones before it, which are then read from
 * the database if their announcement was lost. A `seq` that never committed leaves a hole that is skipped.
 */
export class RoomFeeds {
  private readonly feeds = new Map<string, Promise<RoomFeed>>()

  constructor(
    private readonly bus: Bus,
    private readonly repository: ChatStore,
    private readonly channelPrefix: string,
    private readonly onPresenceSignal: (room: string) => void,
    private readonly log: FastifyBaseLogger,
    private readonly metrics: Pick<Metrics, 'gapFills' | 'catchUps'>,
    private readonly gapWaitMs = 100,
  ) {
    bus.onResubscribed(() => {
      for (const [room, feed] of this.feeds) {
        feed
          .then((ready) => this.catchUp(ready))
          .catch((error: unknown) =>
            this.log.error({ err: error, room }, 'room catch-up after a bus outage failed'),
          )
      }
    })
  }

  channel = (room: string) => `${this.channelPrefix}room:${room}`

  /** Adds a member, subscribing this process to the room first if it was not yet. */
  async join(room: Room, member: RoomMember): Promise<void> {
    let feed = this.feeds.get(room.name)
    if (!feed) {
      // a failed open is forgotten, so the next join tries afresh; the joiner hears of the failure and logs it
      feed = this.open(room).catch((error: unknown) => {
        this.feeds.delete(room.name)
        throw error
      })
      this.feeds.set(room.name, feed)
    }
    ;(await feed).members.add(member)
  }

  async leave(roomName: string, member: RoomMember): Promise<void> {
    const pending = this.feeds.get(roomName)
    if (!pending) return
    const feed = await pending
    feed.members.delete(member)
    if (feed.members.size > 0 || this.feeds.get(roomName) !== pending) return
    this.feeds.delete(roomName)
    clearTimeout(feed.gapTimer)
    await this.bus.unsubscribe(this.channel(roomName), feed.handler)
  }

  /** Announces stored messages of one room, in `seq` order, to every process: one bus message for all. */
  publishMessages(messages: readonly ChatMessage[]): Promise<void> {
    const seqs = messages.map((message) => message.seq).join(' ')
    const frames = messages.map(messageFrame).join('\n')
    return this.bus.publish(this.channel(messages[0]!.room), `m ${seqs}\n${frames}`)
  }

  /** Announces an event of the log (an edit, deletion, reaction change): ordered by its `seq` as messages are. */
  publishUpdate(update: MessageUpdate): Promise<void> {
    return this.bus.publish(this.channel(update.room), `m ${update.seq}\n${updateFrame(update)}`)
  }

  /** Announces a passing event (typing) to the room's members on every process. */
  publishEvent(room: string, frame: string): Promise<void> {
    return this.bus.publish(this.channel(room), `e\n${frame}`)
  }

  publishPresenceSignal(room: string): Promise<void> {
    return this.bus.publish(this.channel(room), 'p')
  }

  membersOf(roomName: string): Promise<RoomFeed | undefined> {
    return this.feeds.get(roomName) ?? Promise.resolve(undefined)
  }

  private async open(room: Room): Promise<RoomFeed> {
    const feed: RoomFeed = new RoomFeed(room, (payload) => this.onPayload(feed, payload))
    // Subscribe before reading the room's last seq: whatever commits after the read is announced after it.
    await this.bus.subscribe(this.channel(room.name), feed.handler)
    const current = await this.repository.findRoom(room.name)
    feed.lastSeq = current?.lastSeq ?? 0
    for (const seq of feed.pending.keys()) if (seq <= feed.lastSeq) feed.pending.delete(seq)
    this.drain(feed)
    return feed
  }

  private onPayload(feed: RoomFeed, payload: string): void {
    const newline = payload.indexOf('\n')
    const head = newline === -1 ? payload : payload.slice(0, newline)
    if (head === 'p') return this.onPresenceSignal(feed.room.name)
    const frame = payload.slice(newline + 1)
    if (head === 'e') {
      for (const member of feed.members) member.deliver(feed.room.name, undefined, frame)
      return
    }
    const seqs = head.slice(2).split(' ')
    const frames = seqs.length === 1 ? [frame] : frame.split('\n')
    seqs.forEach((text, index) => {
      const seq = Number(text)
      if (seq > feed.lastSeq) feed.pending.set(seq, frames[index]!)
    })
    if (feed.lastSeq >= 0) this.drain(feed)
  }

  private drain(feed: RoomFeed): void {
    let next: string | undefined
    while ((next = feed.pending.get(feed.lastSeq + 1)) !== undefined) {
      feed.pending.delete(++feed.lastSeq)
      for (const member of feed.members) member.deliver(feed.room.name, feed.lastSeq, next)
    }
    if (feed.pending.size > 0 && !feed.gapTimer) {
      feed.gapTimer = setTimeout(() => {
        this.fillGap(feed).catch((error: unknown) => {
          // the next announcement sets the timer again, so the gap is filled once the database is back
          this.log.error({ err: error, room: feed.room.name, lastSeq: feed.lastSeq }, 'room gap fill failed')
        })
      }, this.gapWaitMs)
    }
  }

  /** Reads what the bus did not bring, then delivers up to the highest `seq` announced, skipping holes. */
  private async fillGap(feed: RoomFeed): Promise<void> {
    feed.gapTimer = undefined
    if (feed.pending.size === 0) return
    this.metrics.gapFills.inc()
    const upTo = Math.max(...feed.pending.keys())
    const missing = await this.repository.logAfter(feed.room, feed.lastSeq, upTo - feed.lastSeq, upTo)
    for (const entry of missing)
      if (entrySeq(entry) > feed.lastSeq) feed.pending.set(entrySeq(entry), entryFrame(entry))
    this.deliverUpTo(feed, upTo)
    this.drain(feed)
  }

  private deliverUpTo(feed: RoomFeed, upTo: number): void {
    const ready = [...feed.pending.keys()].filter((seq) => seq <= upTo).sort((a, b) => a - b)
    for (const seq of ready) {
      const frame = feed.pending.get(seq)!
      feed.pending.delete(seq)
      feed.lastSeq = seq
      for (const member of feed.members) member.deliver(feed.room.name, seq, frame)
    }
    feed.lastSeq = Math.max(feed.lastSeq, upTo)
  }

  /**
   * After the bus was down: whatever committed meanwhile, read from the database in pages, up to the
   * room's `lastSeq` as read first. That bound ends the loop however fast messages keep coming: what
   * commits after the read is announced on the bus, which is back.
   */
  private async catchUp(feed: RoomFeed): Promise<void> {
    this.metrics.catchUps.inc()
    const upTo = (await this.repository.findRoom(feed.room.name))?.lastSeq ?? feed.lastSeq
    while (feed.lastSeq < upTo && feed.members.size > 0) {
      const entries = await this.repository.logAfter(feed.room, feed.lastSeq, HISTORY_PAGE_MAX, upTo)
      for (const entry of entries) feed.pending.set(entrySeq(entry), entryFrame(entry))
      // a page short of the bound means the rest are holes: deliver up to it and stop
      this.deliverUpTo(feed, entries.length < HISTORY_PAGE_MAX ? upTo : entrySeq(entries.at(-1)!))
    }
    this.drain(feed)
  }
}
