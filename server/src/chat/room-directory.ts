import {
  DIRECT_ROOM_PREFIX,
  type ChatUser,
  type RoomMemberEntry,
  type RoomRole,
  type RoomSummary,
} from '@chat/contract'
import type { FastifyBaseLogger } from 'fastify'
import type { Bus } from '../bus/bus.ts'
import { ChatProblem } from './chat-problem.ts'
import type { RoomChanges, RoomListing, RoomRecord, RoomRepository } from './room-repository.ts'
import { mayManage, mayRemove, maySetRole, type Actor } from './room-rules.ts'

/** What the directory asks of storage: the repository, or an in-memory fake in unit tests. */
export type RoomStore = Pick<
  RoomRepository,
  | 'roomList'
  | 'roomFor'
  | 'roomById'
  | 'createRoom'
  | 'openDirect'
  | 'addMember'
  | 'removeMember'
  | 'roleOf'
  | 'setRole'
  | 'leave'
  | 'members'
  | 'updateRoom'
  | 'markRead'
  | 'findUser'
  | 'findUsers'
>

/**
 * What every process hears on `<prefix>room-events`, so each connection's cached membership follows the
 * database without a query per message: a user's membership in a room changed (`role` null: removed), a
 * room changed or a public one was created, a user's read marker moved.
 */
export type RoomEvent =
  | { t: 'member'; userId: string; record: RoomRecord; role: RoomRole | null; created?: boolean }
  | { t: 'room'; record: RoomRecord; created?: boolean }
  | { t: 'read'; userId: string; room: string; seq: number }

/** A connection that keeps a user's room list: told of every room event that may concern it. */
export interface RoomEventListener {
  readonly userId: string
  roomEvent(event: RoomEvent): void
}

/** A room as a viewer sees it in their list: a direct room is titled with the other person's name. */
export function summaryOf(listing: RoomListing, viewerId: string): RoomSummary {
  const { record, role, lastReadSeq, unread, mentions } = listing
  const peer = record.pair?.find((user) => user.id !== viewerId) ?? record.pair?.[0]
  return {
    room: record.name,
    kind: record.kind,
    title: peer && record.kind === 'direct' ? peer.name : record.title,
    topic: record.topic,
    archived: record.archived,
    lastSeq: record.lastSeq,
    ...(role === undefined
      ? {}
      : { role, lastReadSeq: lastReadSeq ?? 0, unread: unread ?? 0, mentions: mentions ?? 0 }),
    ...(peer && record.kind === 'direct' ? { peer } : {}),
  }
}

const forbidden = (what: string) => new ChatProblem('forbidden', `You may not ${what} in this room`)

/**
 * Rooms and who is in them: the rules of who may do what (room-rules.ts) applied to what the database
 * holds, and every change told on the bus, so connections on every process update their cached
 * membership at once (a removed member stops hearing the room within the bus's latency).
 */
export class RoomDirectory {
  private readonly channel: string
  private readonly listeners = new Map<string, Set<RoomEventListener>>()
  private readonly onEvent = (payload: string) => this.dispatch(JSON.parse(payload) as RoomEvent)

  constructor(
    private readonly store: RoomStore,
    private readonly bus: Bus,
    channelPrefix: string,
    private readonly log: FastifyBaseLogger,
  ) {
    this.channel = `${channelPrefix}room-events`
  }

  start(): Promise<void> {
    return this.bus.subscribe(this.channel, this.onEvent)
  }
  stop(): Promise<void> {
    return this.bus.unsubscribe(this.channel, this.onEvent)
  }

  listen(listener: RoomEventListener): void {
    const ofUser = this.listeners.get(listener.userId) ?? new Set()
    ofUser.add(listener)
    this.listeners.set(listener.userId, ofUser)
  }
  unlisten(listener: RoomEventListener): void {
    const ofUser = this.listeners.get(listener.userId)
    if (ofUser?.delete(listener) && ofUser.size === 0) this.listeners.delete(listener.userId)
  }

  /** The user's room list with unread counts: one query. */
  list(user: ChatUser, admin: boolean): Promise<RoomListing[]> {
    return this.store.roomList(user.id, admin)
  }

  /** The room and this user's membership, for a join; undefined when there is none of that name. */
  find(name: string, user: ChatUser): Promise<RoomListing | undefined> {
    return this.store.roomFor(name, user.id)
  }

  /** Joining a public room makes a member, who has read all there was. */
  async joinPublic(record: RoomRecord, user: ChatUser): Promise<void> {
    if (await this.store.addMember(record.id, user.id))
      await this.publish({ t: 'member', userId: user.id, record, role: 'member' })
  }

  /** false when the name is taken. A public room is told to everyone, a private one to its owner. */
  async create(
    name: string,
    kind: 'public' | 'private',
    title: string | undefined,
    topic: string,
    owner: ChatUser,
  ): Promise<boolean> {
    if (name.startsWith(DIRECT_ROOM_PREFIX)) {
      throw new ChatProblem(
        'invalid_message',
        `Room names starting with ${DIRECT_ROOM_PREFIX} are kept for direct messages`,
      )
    }
    const record = await this.store.createRoom(name, kind, title ?? name, topic, owner.id)
    if (!record) return false
    if (kind === 'public') await this.publish({ t: 'room', record, created: true })
    await this.publish({ t: 'member', userId: owner.id, record, role: 'owner', created: kind === 'private' })
    return true
  }

  /** The direct room of two users, made (both as members) on first use. */
  async openDirect(user: ChatUser, otherId: string): Promise<RoomRecord> {
    if (otherId === user.id) throw new ChatProblem('invalid_message', 'A direct message needs another person')
    const other = await this.store.findUser(otherId)
    if (!other) throw new ChatProblem('unknown_user', 'There is no such user')
    const { record, created } = await this.store.openDirect(user, other)
    if (created) {
      for (const userId of [user.id, other.id])
        await this.publish({ t: 'member', userId, record, role: 'member', created: true })
    }
    return record
  }

  /** with `query`: those whose name starts with it, at most `MEMBER_MATCHES_MAX` (for `@name` completion) */
  async members(record: RoomRecord, query?: string): Promise<RoomMemberEntry[]> {
    return this.store.members(record.id, query)
  }

  async invite(actor: Actor, record: RoomRecord, userId: string): Promise<void> {
    if (!mayManage(actor, record.kind, 'invite')) throw forbidden('invite')
    const user = await this.store.findUser(userId)
    if (!user) throw new ChatProblem('unknown_user', 'There is no such user')
    if (!(await this.store.addMember(record.id, userId))) return
    // read again: the newcomer's marker is the room's last seq now, not what the inviter's cache holds
    const fresh = (await this.store.roomById(record.id)) ?? record
    await this.publish({ t: 'member', userId, record: fresh, role: 'member', created: true })
  }

  async remove(actor: Actor, actorId: string, record: RoomRecord, userId: string): Promise<void> {
    const target = await this.store.roleOf(record.id, userId)
    if (!target) throw new ChatProblem('not_member', 'That user is not a member of this room')
    if (!mayRemove(actor, record.kind, target, userId === actorId)) throw forbidden(`remove this ${target}`)
    if (await this.store.removeMember(record.id, userId))
      await this.publish({ t: 'member', userId, record, role: null })
  }

  async setRole(
    actor: Actor,
    actorId: string,
    record: RoomRecord,
    userId: string,
    role: RoomRole,
  ): Promise<void> {
    if (!maySetRole(actor, record.kind, userId === actorId)) throw forbidden('change this role')
    if (!(await this.store.setRole(record.id, userId, role))) {
      throw new ChatProblem('not_member', 'That user is not a member of this room')
    }
    await this.publish({ t: 'member', userId, record, role })
  }

  async update(actor: Actor, record: RoomRecord, changes: RoomChanges): Promise<void> {
    if (changes.title !== undefined && !mayManage(actor, record.kind, 'title')) throw forbidden('rename')
    if (changes.topic !== undefined && !mayManage(actor, record.kind, 'topic'))
      throw forbidden('set the topic')
    if (changes.archived !== undefined && !mayManage(actor, record.kind, 'archive'))
      throw forbidden('archive')
    const updated = await this.store.updateRoom(record.id, changes)
    if (updated) await this.publish({ t: 'room', record: updated })
  }

  /** Out of the room; a last owner's role passes on (RoomRepository.leave). */
  async leave(actor: Actor, record: RoomRecord, user: ChatUser): Promise<void> {
    if (!mayManage(actor, record.kind, 'leave')) {
      throw record.kind === 'direct'
        ? new ChatProblem('forbidden', 'A direct conversation cannot be left')
        : new ChatProblem('not_member', `You are not a member of ${record.name}`)
    }
    const { left, successor } = await this.store.leave(record.id, user.id)
    if (left) await this.publish({ t: 'member', userId: user.id, record, role: null })
    if (successor) await this.publish({ t: 'member', userId: successor, record, role: 'owner' })
  }

  /** Moves the user's read marker forward, and tells their other connections, on every process. */
  async markRead(record: RoomRecord, user: ChatUser, seq: number): Promise<void> {
    const marker = await this.store.markRead(record.id, user.id, seq)
    if (marker === undefined) throw new ChatProblem('not_member', `You are not a member of ${record.name}`)
    await this.publish({ t: 'read', userId: user.id, room: record.name, seq: marker })
  }

  findUsers(query: string): Promise<ChatUser[]> {
    return this.store.findUsers(query)
  }

  private publish(event: RoomEvent): Promise<void> {
    return this.bus.publish(this.channel, JSON.stringify(event))
  }

  private dispatch(event: RoomEvent): void {
    try {
      const targets =
        event.t === 'room'
          ? [...this.listeners.values()].flatMap((set) => [...set])
          : [...(this.listeners.get(event.userId) ?? [])]
      for (const listener of targets) listener.roomEvent(event)
    } catch (error) {
      this.log.error({ err: error, event: event.t }, 'room event dispatch failed')
    }
  }
}
