import type { ChatUser } from '@chat/contract'
import type { FastifyBaseLogger } from 'fastify'
import type { Bus } from '../redis/bus.ts'
import type { ChatRepository } from './chat-repository.ts'
import { LocalPresence, mergeOnline, type PresenceStore } from './presence.ts'
import { RoomFeeds, type RoomMember } from './room-feeds.ts'

export interface ChatSettings {
  historyLimit: number
  messagesPerSecond: number
  /** how often presence is refreshed; a dead process's users vanish within about three of these */
  presenceIntervalMs: number
}

/** Something that can be told of new rooms: every open chat connection of this process. */
export interface RoomListener {
  roomCreated(frame: string): void
}

/**
 * The chat's state on one process: room feeds, presence, and the connections to tell of new rooms.
 * Everything crossing processes goes through the bus; everything durable through the repository.
 */
export class ChatHub {
  readonly feeds: RoomFeeds
  private readonly local = new LocalPresence()
  private readonly lastOnline = new Map<string, string>()
  private readonly listeners = new Set<RoomListener>()
  private readonly roomsChannel: string
  private timer: NodeJS.Timeout | undefined
  private readonly onRoomCreated = (frame: string) =>
    this.listeners.forEach((listener) => listener.roomCreated(frame))

  constructor(
    readonly repository: ChatRepository,
    private readonly bus: Bus,
    private readonly presence: PresenceStore,
    channelPrefix: string,
    readonly processId: string,
    readonly settings: ChatSettings,
    private readonly log: FastifyBaseLogger,
  ) {
    this.roomsChannel = `${channelPrefix}rooms`
    this.feeds = new RoomFeeds(bus, repository, channelPrefix, (room) => void this.refreshPresence(room))
  }

  async start(): Promise<void> {
    await this.bus.subscribe(this.roomsChannel, this.onRoomCreated)
    await this.presence.keepAlive(this.processId)
    this.timer = setInterval(() => void this.tick(), this.settings.presenceIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.bus.unsubscribe(this.roomsChannel, this.onRoomCreated)
    await Promise.all(this.local.roomNames().map((room) => this.presence.write(room, this.processId, [])))
  }

  listen(listener: RoomListener): void {
    this.listeners.add(listener)
  }
  unlisten(listener: RoomListener): void {
    this.listeners.delete(listener)
  }

  announceRoom(room: string): Promise<void> {
    return this.bus.publish(this.roomsChannel, JSON.stringify({ type: 'room_created', room }))
  }

  /** A connection joins a room: it hears the room from now on, and everyone hears it is online. */
  async enter(room: string, user: ChatUser): Promise<ChatUser[]> {
    if (this.local.add(room, user)) await this.publishLocalPresence(room)
    return this.online(room)
  }

  async exit(room: string, user: ChatUser): Promise<void> {
    if (this.local.remove(room, user.id)) await this.publishLocalPresence(room)
  }

  async online(room: string): Promise<ChatUser[]> {
    return mergeOnline(await this.presence.read(room))
  }

  private async publishLocalPresence(room: string): Promise<void> {
    await this.presence.write(room, this.processId, this.local.users(room))
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
      await this.presence.keepAlive(this.processId)
      // our own share again (a Redis restart may have lost it), and everyone else's, dead processes dropped
      for (const room of this.local.roomNames()) {
        await this.presence.write(room, this.processId, this.local.users(room))
        await this.refreshPresence(room)
      }
    } catch (error) {
      this.log.warn({ err: error }, 'presence heartbeat failed')
    }
  }
}
