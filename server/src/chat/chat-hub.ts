import {
  HISTORY_PAGE_MAX,
  type ChatMessage,
  type ChatUser,
  type MessageEdit,
  type MessageUpdate,
  type Reaction,
} from '@chat/contract'
import type { FastifyBaseLogger } from 'fastify'
import type { Bus } from '../bus/bus.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type {
  ChangeOutcome,
  ChatStore,
  HistoryCursor,
  HistoryPage,
  MessageChangeStore,
  NewMessage,
  Room,
} from './chat-repository.ts'
import { AnnouncementFailed } from './chat-problem.ts'
import { GroupCommit } from './group-commit.ts'
import { LocalPresence, mergeOnline, type PresenceStore } from './presence.ts'
import { RoomDirectory, type RoomStore } from './room-directory.ts'
import { RoomFeeds, type RoomMember } from './room-feeds.ts'

export interface ChatSettings {
  historyLimit: number
  /** most messages of one room stored in one statement (group commit); 1 stores each on its own */
  maxBatch: number
  messagesPerSecond: number
  /** how often presence is refreshed; a dead process's users vanish within about three of these */
  presenceIntervalMs: number
}

/** What the chat counts (the app's Prometheus metrics; a fresh registry in unit tests). */
export type ChatMetrics = Pick<
  Metrics,
  'messagesReceived' | 'messagesStored' | 'messagesDelivered' | 'storeDuration' | 'gapFills' | 'catchUps'
>

/**
 * The chat's state on one process: room feeds, presence, and the connections to tell of new rooms.
 * Everything crossing processes goes through the bus; everything durable through the repository.
 * Connections speak to it in intentions (join, send, leave…), never to its parts.
 */
export class ChatHub {
  private readonly feeds: RoomFeeds
  private readonly writer: GroupCommit
  private readonly local = new LocalPresence()
  private readonly lastOnline = new Map<string, string>()
  /** rooms, memberships and their rules; its events keep every connection's cached membership true */
  readonly directory: RoomDirectory
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly repository: ChatStore,
    rooms: RoomStore,
    /** undefined where messages are only sent and read (the unit tests' in-memory store) */
    private readonly changes: MessageChangeStore | undefined,
    private readonly bus: Bus,
    private readonly presence: PresenceStore,
    channelPrefix: string,
    /** which process this is: told to clients in `welcome`, and the key of its presence share */
    readonly serverId: string,
    private readonly settings: ChatSettings,
    private readonly log: FastifyBaseLogger,
    readonly metrics: ChatMetrics,
    /** how long an early message waits for the ones before it (RoomFeeds' default when undefined) */
    gapWaitMs?: number,
  ) {
    this.directory = new RoomDirectory(rooms, bus, channelPrefix, log)
    const onPresenceSignal = (room: string) => void this.refreshPresence(room)
    this.feeds = new RoomFeeds(bus, repository, channelPrefix, onPresenceSignal, log, metrics, gapWaitMs)
    this.writer = new GroupCommit(
      repository,
      (messages) => this.feeds.publishMessages(messages),
      settings.maxBatch,
    )
  }

  async start(): Promise<void> {
    await this.directory.start()
    await this.presence.keepAlive(this.serverId)
    this.timer = setInterval(() => void this.tick(), this.settings.presenceIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.directory.stop()
    await Promise.all(this.local.roomNames().map((room) => this.presence.write(room, this.serverId, [])))
  }

  /**
   * The member hears the room from now on, and everyone hears the user is online. Whether the user may
   * is the caller's to have decided (ChatConnection, from its cached membership).
   */
  async join(room: Room, member: RoomMember, user: ChatUser): Promise<ChatUser[]> {
    await this.feeds.join(room, member)
    if (this.local.add(room.name, user)) await this.publishLocalPresence(room.name)
    return this.online(room.name)
  }

  /** `watching`: the member still follows the room's new messages (its room list), so keeps the feed */
  async leave(roomName: string, member: RoomMember, user: ChatUser, watching = false): Promise<void> {
    if (!watching) await this.feeds.leave(roomName, member)
    if (this.local.remove(roomName, user.id)) await this.publishLocalPresence(roomName)
  }

  /** Follows a room's new messages without joining it (no history, no presence): for unread counts. */
  watch(room: Room, member: RoomMember): Promise<void> {
    return this.feeds.join(room, member)
  }
  unwatch(roomName: string, member: RoomMember): Promise<void> {
    return this.feeds.leave(roomName, member)
  }

  /** What a joiner without a `since` sees first: the room's newest messages. */
  recentHistory(room: Room): Promise<HistoryPage> {
    return this.repository.historyPage(room, {}, Math.min(this.settings.historyLimit, HISTORY_PAGE_MAX))
  }

  history(room: Room, cursor: HistoryCursor, limit = HISTORY_PAGE_MAX): Promise<HistoryPage> {
    return this.repository.historyPage(room, cursor, Math.min(limit, HISTORY_PAGE_MAX))
  }

  /**
   * Stored first, then acknowledged (`stored`), then announced: an ack means the message is safe. A
   * client id this user sent before is not stored again: its first message is acknowledged once more.
   * Sends to one room arriving while its previous insert is in flight are stored together (group commit).
   */
  send(room: Room, message: NewMessage, stored: (message: ChatMessage) => void): Promise<void> {
    this.metrics.messagesReceived.inc()
    // from arrival to stored, the wait for the room's batch included: what a sender sees before its ack
    const endTimer = this.metrics.storeDuration.startTimer()
    return this.writer.send(room, message, (result) => {
      endTimer()
      if (result.created) this.metrics.messagesStored.inc()
      stored(result.message)
    })
  }

  /**
   * An edit, deletion or reaction change: stored with its own `seq` (or refused, saying why), then
   * announced to the room as messages are, in `seq` order with them. Stored but not announced, it throws
   * `AnnouncementFailed`: the change is safe, and others get it with the room's next announcement (a
   * gap fill) or when they next join.
   */
  async edit(
    room: Room,
    seq: number,
    user: ChatUser,
    text: string,
    mentionHints?: readonly string[],
  ): Promise<ChangeOutcome> {
    return this.announced(await this.changeStore().editMessage(room, seq, user, text, mentionHints))
  }
  async delete(room: Room, seq: number, user: ChatUser): Promise<ChangeOutcome> {
    return this.announced(await this.changeStore().deleteMessage(room, seq, user))
  }
  async react(room: Room, seq: number, user: ChatUser, emoji: Reaction, on: boolean): Promise<ChangeOutcome> {
    return this.announced(await this.changeStore().react(room, seq, user, emoji, on))
  }
  /** undefined when the user may not read them */
  editHistory(room: Room, seq: number, user: ChatUser): Promise<MessageEdit[] | undefined> {
    return this.changeStore().editHistory(room, seq, user)
  }

  private changeStore(): MessageChangeStore {
    if (!this.changes) throw new Error('this hub was built without message changes')
    return this.changes
  }

  private async announced(outcome: ChangeOutcome): Promise<ChangeOutcome> {
    const update: MessageUpdate | undefined = outcome.refused ? undefined : outcome.update
    if (!update) return outcome
    try {
      await this.feeds.publishUpdate(update)
    } catch (error) {
      throw new AnnouncementFailed(error)
    }
    return outcome
  }

  typing(roomName: string, user: ChatUser, typing: boolean): Promise<void> {
    return this.feeds.publishEvent(roomName, JSON.stringify({ type: 'typing', room: roomName, user, typing }))
  }

  /** who is in the room, on every process */
  async online(room: string): Promise<ChatUser[]> {
    return mergeOnline(await this.presence.read(room))
  }

  private async publishLocalPresence(room: string): Promise<void> {
    await this.presence.write(room, this.serverId, this.local.users(room))
    await this.feeds.publishPresenceSignal(room)
  }

  /** Re-reads a room's presence and tells its members here, once per change. */
  private async refreshPresence(room: string): Promise<void> {
    try {
      const feed = await this.feeds.membersOf(room)
      if (!feed || feed.members.size === 0) return
      const frame = JSON.stringify({ type: 'presence', room, online: await this.online(room) })
      if (this.lastOnline.get(room) === frame) return
      this.lastOnline.set(room, frame)
      for (const member of feed.members as Set<RoomMember>) member.deliver(room, undefined, frame)
    } catch (error) {
      this.log.warn({ err: error, room }, 'presence refresh failed')
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.presence.keepAlive(this.serverId)
      // our own share again (a Redis restart may have lost it), and everyone else's, dead processes dropped
      for (const room of this.local.roomNames()) {
        await this.presence.write(room, this.serverId, this.local.users(room))
        await this.refreshPresence(room)
      }
    } catch (error) {
      this.log.warn({ err: error }, 'presence heartbeat failed')
    }
  }
}
