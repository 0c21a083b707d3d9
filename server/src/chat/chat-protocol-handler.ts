import {
  CLIENT_ID_MAX_CHARS,
  ClientMessageSchemas,
  CloseCode,
  type ChatUser,
  type ClientMessage,
  type ClientMessageType,
  type RoomSummary,
  type ServerMessage,
} from '@chat/contract'
import type { FastifyBaseLogger } from 'fastify'
import { Compile } from 'typebox/compile'
import type { ChatHub } from './chat-hub.ts'
import type { ChatPeer, ChatSession } from './chat-peer.ts'
import { AnnouncementFailed, ChatProblem } from './chat-problem.ts'
import type { ChangeOutcome, HistoryPage, Room } from './chat-repository.ts'
import { summaryOf, type RoomEvent, type RoomEventListener } from './room-directory.ts'
import { activityFrame, editNews, parsedFrame, type RoomMember } from './room-feeds.ts'
import type { RoomListing } from './room-repository.ts'
import { mayOpen, mayWrite, type Actor } from './room-rules.ts'
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

/** The requests whose errors name them by the client's `ref`: changes to a message, and reading its earlier texts. */
const NAMED_BY_REF = new Set(['edit', 'delete', 'react', 'edit_history'])
/** what is only read: an error naming it says nothing of `stored` */
const READS = new Set(['edit_history'])

/**
 * The client's name for what a frame asks, read only to say which request a refusal is about: a send's
 * `clientId`, or the `ref` of an edit, deletion, reaction or `edit_history`.
 */
function refIn(value: unknown): string | undefined {
  const frame = value as { type?: unknown; clientId?: unknown; ref?: unknown } | null
  const ref =
    frame?.type === 'send'
      ? frame.clientId
      : typeof frame?.type === 'string' && NAMED_BY_REF.has(frame.type)
        ? frame.ref
        : undefined
  return typeof ref === 'string' && ref.length > 0 && ref.length <= CLIENT_ID_MAX_CHARS ? ref : undefined
}

/**
 * What an error answering that frame names: its `ref` and, for a send or a change, whether it is `stored`
 * (nothing when the frame names nothing).
 */
function refAnswer(value: unknown, stored: boolean): { ref?: string; stored?: boolean } {
  const ref = refIn(value)
  if (ref === undefined) return {}
  const type = (value as { type?: unknown }).type
  return typeof type === 'string' && READS.has(type) ? { ref } : { ref, stored }
}

/** The frame, parsed, for a refusal before parsing (the rate limit), which still names what it refuses. */
function rawFrame(frame: string | Uint8Array): unknown {
  if (typeof frame !== 'string') return undefined
  try {
    return JSON.parse(frame)
  } catch {
    // not JSON: there is nothing to name; the refusal goes out without a ref
    return undefined
  }
}

const STORED_NOT_ANNOUNCED = {
  send: 'Your message is stored, but others may see it only when they next open the room',
  change: 'Saved; others will see it when they next open the room',
}
/** a live `message_updated` frame starts so (room-feeds.ts `updateFrame`): told apart without parsing */
const UPDATE_FRAME_START = '{"type":"message_updated",'

/** One `chat.v1` connection: parses what the client says, and delivers what its rooms say. */
export class ChatConnection implements RoomMember, RoomEventListener, ChatSession {
  /** the rooms joined: their messages, presence and typing are sent */
  private readonly rooms = new Map<string, Membership>()
  /**
   * The user's room list, with their role in each: the membership cache every check reads, so no message
   * costs a query (ASVS 5.0 V8.2.1). Loaded at welcome, kept true by room events from every process.
   */
  private readonly listed = new Map<string, RoomListing>()
  /** member rooms followed for `activity` (unread counts) while not joined */
  private readonly watching = new Set<string>()
  readonly userId: string
  /** the instance admin sees and manages every room (read at the upgrade, as the user's name is) */
  private readonly admin: boolean
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
    this.userId = peer.user.id
    this.admin = peer.admin
    this.budget = new TokenBucket(settings.messagesPerSecond)
  }

  /** Says welcome; frames that arrive meanwhile wait their turn behind it. */
  start(): void {
    this.hub.directory.listen(this)
    this.work = this.welcome()
  }

  deliver(room: string, seq: number | undefined, frame: string): void {
    const membership = this.rooms.get(room)
    if (!membership) return this.activity(room, seq, frame)
    if (membership.held) return void membership.held.push({ seq, frame })
    if (seq !== undefined) {
      if (seq <= membership.lastSent) return
      membership.lastSent = seq
      this.hub.metrics.messagesDelivered.inc()
    }
    this.peer.send(frame)
  }

  /**
   * A new message in a member room not joined: the client counts it unread, and a mention of this user.
   * An event of the log (edit, deletion, reaction) is no new message: nothing is counted, but for an edit
   * that newly mentions this user in a message still unread to them (`editActivity`).
   */
  private activity(room: string, seq: number | undefined, frame: string): void {
    const listing = this.listed.get(room)
    if (seq === undefined || !listing?.role || seq <= listing.record.lastSeq) return
    listing.record.lastSeq = seq
    if (frame.startsWith(UPDATE_FRAME_START)) return this.editActivity(listing, seq, frame)
    listing.unread = (listing.unread ?? 0) + 1
    const mentioned = this.mentions(frame)
    if (mentioned) listing.mentions = (listing.mentions ?? 0) + 1
    this.peer.send(activityFrame(room, seq, mentioned))
  }

  /**
   * An edit that newly mentions this user, by name or with a new `@room`, in a message after their read
   * marker: counted as a mention, as the room list counts it after a reconnect (unread messages that
   * mention the user as they stand). A mention added to a message already read is shown when the room is
   * opened, not counted: docs/protocol.md, "Replies and mentions".
   */
  private editActivity(listing: RoomListing, seq: number, frame: string): void {
    // only an edit's live frame says who it newly mentions (`mentionsAdded`, `mentionsRoomAdded`)
    if (!frame.includes('"mentionsAdded"') && !frame.includes('"mentionsRoomAdded"')) return
    const news = editNews(frame)
    const newlyMentioned =
      (news.mentionsRoomAdded && !news.mentionedBefore.includes(this.userId)) ||
      news.mentionsAdded.includes(this.userId)
    if (
      news.change !== 'edited' ||
      !newlyMentioned ||
      news.authorId === this.userId ||
      news.messageSeq <= (listing.lastReadSeq ?? 0)
    )
      return
    listing.mentions = (listing.mentions ?? 0) + 1
    const room = listing.record.name
    this.send({ type: 'activity', room, seq, mentioned: true, change: 'edited' })
  }

  /** Whether a room's frame is a message by someone else that mentions this user; read only when it names anyone. */
  private mentions(frame: string): boolean {
    if (!frame.includes('"mention')) return false
    const message = parsedFrame(frame) as {
      type?: string
      author?: { id?: string }
      mentions?: string[]
      mentionsRoom?: boolean
    }
    return (
      message.type === 'message' &&
      message.author?.id !== this.userId &&
      (message.mentionsRoom === true || (message.mentions?.includes(this.userId) ?? false))
    )
  }

  /** A room event from any process: the cache follows, and the client is told what changed for it. */
  roomEvent(event: RoomEvent): void {
    if (this.gone) return
    switch (event.t) {
      case 'read': {
        const listing = this.listed.get(event.room)
        if (listing?.role) {
          listing.lastReadSeq = Math.max(listing.lastReadSeq ?? 0, event.seq)
          if (listing.lastReadSeq >= listing.record.lastSeq)
            Object.assign(listing, { unread: 0, mentions: 0 })
        }
        return this.send({ type: 'read', room: event.room, seq: event.seq })
      }
      case 'room': {
        const before = this.listed.get(event.record.name)
        if (!before && !mayOpen({ role: undefined, admin: this.admin }, event.record.kind)) return
        const lastSeq = Math.max(before?.record.lastSeq ?? 0, event.record.lastSeq)
        const listing: RoomListing = {
          role: undefined,
          lastReadSeq: undefined,
          unread: undefined,
          ...before,
          record: { ...event.record, lastSeq },
        }
        this.listed.set(event.record.name, listing)
        const summary = summaryOf(listing, this.userId)
        return this.send(
          event.created
            ? { type: 'room_created', room: event.record.name, summary }
            : { type: 'room_updated', summary },
        )
      }
      case 'member':
        return this.membershipChanged(event)
    }
  }

  private membershipChanged(event: Extract<RoomEvent, { t: 'member' }>): void {
    const name = event.record.name
    const before = this.listed.get(name)
    const record = { ...event.record, lastSeq: Math.max(before?.record.lastSeq ?? 0, event.record.lastSeq) }
    if (event.role) {
      const listing: RoomListing = before?.role
        ? { ...before, record, role: event.role }
        : { record, role: event.role, lastReadSeq: record.lastSeq, unread: 0 }
      this.listed.set(name, listing)
      this.watch(listing)
      const summary = summaryOf(listing, this.userId)
      return this.send(
        event.created ? { type: 'room_created', room: name, summary } : { type: 'room_updated', summary },
      )
    }
    // removed (or left): the room's frames stop on this connection now, and the list follows
    const visible = mayOpen({ role: undefined, admin: this.admin }, record.kind)
    const listing: RoomListing = { record, role: undefined, lastReadSeq: undefined, unread: undefined }
    if (visible) this.listed.set(name, listing)
    else this.listed.delete(name)
    const joined = this.rooms.delete(name)
    const watched = this.watching.delete(name)
    if (joined || watched) {
      const left = joined ? this.leaveRoom(name) : this.hub.unwatch(name, this)
      left.catch((error: unknown) =>
        this.log.error({ err: error, room: name }, 'leaving a room on removal failed'),
      )
    }
    if (!visible) return this.send({ type: 'room_removed', room: name })
    if (joined) this.send({ type: 'left', room: name })
    this.send({ type: 'room_updated', summary: summaryOf(listing, this.userId) })
  }

  /** Follows a member room's new messages for its unread count. */
  private watch(listing: RoomListing): void {
    const name = listing.record.name
    if (this.gone || this.watching.has(name) || !listing.role) return
    this.watching.add(name)
    this.hub.watch(listing.record, this).catch((error: unknown) => {
      this.watching.delete(name)
      this.log.error({ err: error, room: name }, 'following a room for unread counts failed')
    })
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
    this.send({
      type: 'error',
      code: 'rate_limited',
      message: `Slow down: at most ${limit} messages a second`,
      ...refAnswer(rawFrame(frame), false),
    })
  }

  /** The peer has gone: queued frames are dropped, and the rooms left. */
  closed(): void {
    if (this.gone) return
    this.gone = true
    this.hub.directory.unlisten(this)
    const rooms = [...this.rooms.keys()]
    const watched = [...this.watching].filter((room) => !this.rooms.has(room))
    this.rooms.clear()
    this.watching.clear()
    for (const room of rooms) {
      this.leaveRoom(room).catch((error: unknown) => {
        this.log.error({ err: error, room }, 'leaving a room on disconnect failed')
      })
    }
    for (const room of watched) {
      this.hub.unwatch(room, this).catch((error: unknown) => {
        this.log.error({ err: error, room }, 'unfollowing a room on disconnect failed')
      })
    }
  }

  /**
   * Out of the room's presence, and no longer typing there; out of its feed too unless the room is still
   * followed for its unread count.
   */
  private async leaveRoom(room: string): Promise<void> {
    if (this.typingIn.delete(room)) await this.hub.typing(room, this.user, false)
    await this.hub.leave(room, this, this.user, this.watching.has(room))
  }

  private send(message: ServerMessage): void {
    if (!this.gone) this.peer.send(JSON.stringify(message))
  }

  private async welcome(): Promise<void> {
    try {
      const { rooms, roomList } = await this.loadRoomList()
      this.send({
        type: 'welcome',
        user: this.user,
        rooms,
        roomList,
        admin: this.admin,
        heartbeatMs: this.settings.heartbeatMs,
        server: this.hub.serverId,
        messagesPerSecond: this.settings.messagesPerSecond,
      })
    } catch (error) {
      this.log.error({ err: error }, 'chat connection failed to start')
      this.peer.close(CloseCode.internalError, 'server error')
    }
  }

  /** The room list from the database (one query), cached as this connection's membership. */
  private async loadRoomList(): Promise<{ rooms: string[]; roomList: RoomSummary[] }> {
    const listings = await this.hub.directory.list(this.user, this.admin)
    for (const listing of listings) {
      this.listed.set(listing.record.name, listing)
      this.watch(listing)
    }
    return {
      rooms: listings.map((listing) => listing.record.name),
      roomList: listings.map((listing) => summaryOf(listing, this.userId)),
    }
  }

  private actorOf(listing: RoomListing): Actor {
    return { role: listing.role, admin: this.admin }
  }

  /**
   * A room this user may see, from the cache. A private room or someone else's direct room is answered
   * as one that does not exist, so no name can be probed (ASVS 5.0 V8.2.2, V8.3.1).
   */
  private visible(roomName: string): RoomListing {
    const listing = this.listed.get(roomName)
    if (!listing || !mayOpen(this.actorOf(listing), listing.record.kind)) throw unknownRoom(roomName)
    return listing
  }

  /**
   * The room to join: from the cache for a member; else the database says whether it exists and may be
   * opened, and a public room's joiner becomes a member (ASVS 5.0 V8.2.1, V8.2.2).
   */
  private async access(roomName: string): Promise<RoomListing> {
    const cached = this.listed.get(roomName)
    if (cached?.role) return cached
    const found = await this.hub.directory.find(roomName, this.user)
    if (!found || !mayOpen(this.actorOf(found), found.record.kind)) throw unknownRoom(roomName)
    if (!found.role && found.record.kind === 'public') {
      await this.hub.directory.joinPublic(found.record, this.user)
      Object.assign(found, { role: 'member', lastReadSeq: found.record.lastSeq, unread: 0 })
    }
    // a room event may have brought a fresher copy meanwhile; its record is kept
    const listing = this.listed.get(roomName)?.role ? this.listed.get(roomName)! : found
    this.listed.set(roomName, listing)
    this.watch(listing)
    return listing
  }

  /**
   * A joined room this user may write in: a member (or the admin) by the cached membership, and not
   * archived. No query: removals and archiving reach the cache through room events (ASVS 5.0 V8.2.1).
   */
  private writable(roomName: string): Room {
    const room = this.joined(roomName)
    const listing = this.listed.get(roomName)
    if (!listing || !mayWrite(this.actorOf(listing))) {
      throw new ChatProblem('not_member', `You are no longer a member of ${roomName}`)
    }
    if (listing.record.archived) {
      throw new ChatProblem('archived', `${roomName} is archived: it can be read, not written to`)
    }
    return room
  }

  /** `query`: only the members whose name starts with it, few (for `@name` completion), and it is echoed */
  private async sendMembers(listing: RoomListing, query?: string): Promise<void> {
    const members = await this.hub.directory.members(listing.record, query)
    const room = listing.record.name
    this.send({ type: 'members', room, members, ...(query === undefined ? {} : { query }) })
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

  /**
   * The error that answers a request. A send or a change the client named (`clientId`, `ref`) is told
   * whether it is stored: a refused one is not; the only stored ones are those whose announcement failed,
   * which must not be done again (a change would be applied twice, or refused as unknown).
   */
  private fail(message: ClientMessage | undefined, error: unknown): void {
    const stored = error instanceof AnnouncementFailed
    let named = refAnswer(message, stored)
    if (named.ref === undefined && error instanceof ChatProblem && error.ref)
      named = { ref: error.ref, stored }
    if (error instanceof ChatProblem)
      return this.send({ type: 'error', code: error.code, message: error.message, ...named })
    // unexpected: logged here, once, with what the client asked; the client hears `unavailable`
    const room = message && 'room' in message ? message.room : undefined
    const cause = error instanceof AnnouncementFailed ? error.cause : error
    this.log.error({ err: cause, type: message?.type, room, ref: named.ref }, 'chat request failed')
    this.send({
      type: 'error',
      code: 'unavailable',
      message:
        error instanceof AnnouncementFailed
          ? STORED_NOT_ANNOUNCED[message?.type === 'send' ? 'send' : 'change']
          : 'The server could not do that now; try again',
      ...named,
    })
  }

  private async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'rooms':
        return this.send({ type: 'rooms', ...(await this.loadRoomList()) })
      case 'create_room': {
        const { room, kind = 'public', title, topic = '' } = message
        if (!(await this.hub.directory.create(room, kind, title, topic, this.user))) {
          throw new ChatProblem('room_exists', `A room named ${room} exists already`)
        }
        return
      }
      case 'direct': {
        const record = await this.hub.directory.openDirect(this.user, message.user)
        return this.send({ type: 'direct_room', room: record.name, user: message.user })
      }
      case 'read': {
        const listing = this.visible(message.room)
        if (!listing.role) throw new ChatProblem('not_member', `You are not a member of ${message.room}`)
        return this.hub.directory.markRead(listing.record, this.user, message.seq)
      }
      case 'members':
        return this.sendMembers(this.visible(message.room), message.query)
      case 'invite': {
        const listing = this.visible(message.room)
        await this.hub.directory.invite(this.actorOf(listing), listing.record, message.user)
        return this.sendMembers(listing)
      }
      case 'remove_member': {
        const listing = this.visible(message.room)
        await this.hub.directory.remove(this.actorOf(listing), this.userId, listing.record, message.user)
        return this.sendMembers(listing)
      }
      case 'set_role': {
        const listing = this.visible(message.room)
        const { user, role } = message
        await this.hub.directory.setRole(this.actorOf(listing), this.userId, listing.record, user, role)
        return this.sendMembers(listing)
      }
      case 'update_room': {
        const listing = this.visible(message.room)
        const { title, topic, archived } = message
        return this.hub.directory.update(this.actorOf(listing), listing.record, { title, topic, archived })
      }
      case 'leave_room': {
        const listing = this.visible(message.room)
        return this.hub.directory.leave(this.actorOf(listing), listing.record, this.user)
      }
      case 'find_users':
        return this.send({
          type: 'users',
          query: message.query,
          users: await this.hub.directory.findUsers(message.query),
        })
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
        this.writable(message.room)
        if (message.typing) this.typingIn.add(message.room)
        else this.typingIn.delete(message.room)
        return this.hub.typing(message.room, this.user, message.typing)
      case 'history':
        return this.history(message)
      case 'edit': {
        const { room, seq, text, mentions } = message
        return this.changed(await this.hub.edit(this.joined(room), seq, this.user, text, mentions))
      }
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
      await this.hub.send(this.writable(message.room), sent, (stored) => {
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
      const listing = await this.access(roomName)
      const joined = { room: listing.record, online: await this.hub.join(listing.record, this, this.user) }
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
      await this.hub.leave(roomName, this, this.user, this.watching.has(roomName))
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
const unknownRoom = (room: string) =>
  new ChatProblem('unknown_room', `There is no room named ${room} you can open`)

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
    throw new ChatProblem('invalid_message', `Invalid ${type}: ${describe(first)}`, refIn(value))
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
