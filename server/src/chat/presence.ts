import type { ChatUser } from '@chat/contract'
import type { RedisClient } from '../redis/redis-plugin.ts'

/** Who is online per room, per process; a process that dies stops counting once its heartbeat key lapses. */
export interface PresenceStore {
  write(room: string, processId: string, users: ChatUser[]): Promise<void>
  /** every live process's users of the room (a user on two processes appears twice) */
  read(room: string): Promise<ChatUser[][]>
  keepAlive(processId: string): Promise<void>
}

/**
 * A hash per room (process id -> its users there) and a heartbeat key per process. The heartbeat keys
 * share one hash tag, so a read checks all of a room's processes with one MGET on a Redis Cluster too.
 */
export class RedisPresenceStore implements PresenceStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly processTtlMs: number,
  ) {}

  private roomKey = (room: string) => `${this.prefix}presence:${room}`
  private processKey = (processId: string) => `${this.prefix}{processes}:${processId}`

  async write(room: string, processId: string, users: ChatUser[]): Promise<void> {
    if (users.length === 0) await this.redis.hdel(this.roomKey(room), processId)
    else await this.redis.hset(this.roomKey(room), processId, JSON.stringify(users))
  }

  /** the room's live processes' users; fields of processes whose heartbeat lapsed leave on the way */
  async read(room: string): Promise<ChatUser[][]> {
    const byProcess = Object.entries(await this.redis.hgetall(this.roomKey(room)))
    if (byProcess.length === 0) return []
    const alive = await this.redis.mget(byProcess.map(([processId]) => this.processKey(processId)))
    const dead = byProcess.filter((_, index) => alive[index] === null).map(([processId]) => processId)
    if (dead.length > 0) await this.redis.hdel(this.roomKey(room), ...dead)
    return byProcess
      .filter((_, index) => alive[index] !== null)
      .map(([, users]) => JSON.parse(users) as ChatUser[])
  }

  async keepAlive(processId: string): Promise<void> {
    await this.redis.set(this.processKey(processId), '1', 'PX', this.processTtlMs)
  }
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly rooms = new Map<string, Map<string, ChatUser[]>>()

  async write(room: string, processId: string, users: ChatUser[]): Promise<void> {
    const byProcess = this.rooms.get(room) ?? new Map<string, ChatUser[]>()
    if (users.length === 0) byProcess.delete(processId)
    else byProcess.set(processId, users)
    if (byProcess.size === 0) this.rooms.delete(room)
    else this.rooms.set(room, byProcess)
  }

  async read(room: string): Promise<ChatUser[][]> {
    return [...(this.rooms.get(room)?.values() ?? [])]
  }

  async keepAlive(): Promise<void> {}
}

/** This process's share of presence: how many of its connections each user has in each room. */
export class LocalPresence {
  private readonly rooms = new Map<string, Map<string, { user: ChatUser; connections: number }>>()

  /** true when the user was not in the room on this process before */
  add(room: string, user: ChatUser): boolean {
    const users = this.rooms.get(room) ?? new Map()
    this.rooms.set(room, users)
    const entry = users.get(user.id)
    if (entry) entry.connections++
    else
      users.set(user.id, { user: { id: user.id, name: user.name, verified: user.verified }, connections: 1 })
    return !entry
  }

  /** true when that was the user's last connection in the room on this process */
  remove(room: string, userId: string): boolean {
    const users = this.rooms.get(room)
    const entry = users?.get(userId)
    if (!users || !entry) return false
    if (--entry.connections > 0) return false
    users.delete(userId)
    if (users.size === 0) this.rooms.delete(room)
    return true
  }

  users(room: string): ChatUser[] {
    return [...(this.rooms.get(room)?.values() ?? [])].map((entry) => entry.user)
  }

  roomNames(): string[] {
    return [...this.rooms.keys()]
  }
}

/** One list per room, each user once, in a stable order. */
export function mergeOnline(perProcess: ChatUser[][]): ChatUser[] {
  const byId = new Map<string, ChatUser>()
  for (const users of perProcess) for (const user of users) byId.set(user.id, user)
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
}
