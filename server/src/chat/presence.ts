import type { ChatUser } from '@chat/contract'
import type { Redis } from 'ioredis'

/** Who is online per room, per process; a process that dies stops counting once its heartbeat key lapses. */
export interface PresenceStore {
  write(room: string, processId: string, users: ChatUser[]): Promise<void>
  /** every live process's users of the room (a user on two processes appears twice) */
  read(room: string): Promise<ChatUser[][]>
  keepAlive(processId: string): Promise<void>
}

// Reads the room's hash, drops fields of processes whose heartbeat key is gone, returns the rest.
const READ = `local fields = redis.call('HGETALL', KEYS[1])
local alive = {}
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[1] .. fields[i]) == 1 then table.insert(alive, fields[i + 1])
  else redis.call('HDEL', KEYS[1], fields[i]) end
end
return alive`

export class RedisPresenceStore implements PresenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly processTtlMs: number,
  ) {}

  private roomKey = (room: string) => `${this.prefix}presence:${room}`

  async write(room: string, processId: string, users: ChatUser[]): Promise<void> {
    if (users.length === 0) await this.redis.hdel(this.roomKey(room), processId)
    else await this.redis.hset(this.roomKey(room), processId, JSON.stringify(users))
  }

  async read(room: string): Promise<ChatUser[][]> {
    const values = (await this.redis.eval(READ, 1, this.roomKey(room), `${this.prefix}process:`)) as string[]
    return values.map((value) => JSON.parse(value) as ChatUser[])
  }

  async keepAlive(processId: string): Promise<void> {
    await this.redis.set(`${this.prefix}process:${processId}`, '1', 'PX', this.processTtlMs)
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
