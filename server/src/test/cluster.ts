import type { ChatMessage, ChatUser } from '@chat/contract'
import { expect } from 'vitest'
import { productionLikeEnv } from './backends.ts'
import { spawnServer, type ServerProcess } from './server-process.ts'
import { openSocket, type TestSocket } from './ws-client.ts'

/** Any frame the server sends, loosely typed: each test reads the fields its frame type has. */
export interface Frame {
  type: string
  room?: string
  seq?: number
  id?: string
  text?: string
  clientId?: string
  online?: ChatUser[]
  messages?: ChatMessage[]
  done?: boolean
  user?: ChatUser
  typing?: boolean
  code?: string
}

export interface TestUser {
  email: string
  /** their display name: what others see of them */
  name: string
  token: string
}

export const PASSWORD = 'a-good-password'
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
export const newRoomName = (what: string) => `${what}-${crypto.randomUUID().slice(0, 8)}`

/** Polls `condition` every 20 ms; fails after `timeoutMs` with `what` and the last value seen. */
export async function waitFor<T>(
  what: string,
  probe: () => T,
  condition: (value: T) => boolean,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let value = probe()
  while (!condition(value)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
    value = probe()
  }
  return value
}

/** The API base from the first JSON log line `ready: http://host:port/…`: production logs one JSON object a line. */
export async function readyUrl(server: ServerProcess, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    for (const line of server.output().split('\n')) {
      if (!line.startsWith('{')) continue
      const msg = (JSON.parse(line) as { msg?: unknown }).msg
      const base = typeof msg === 'string' ? /^ready: (http:\/\/[^\s/]+)/.exec(msg)?.[1] : undefined
      if (base) return `${base}/api`
    }
    if (server.child.exitCode !== null) break
    await sleep(50)
  }
  throw new Error(`the server did not get ready:\n${server.output()}`)
}

/** A group of server processes sharing one fresh database and one Redis key prefix. */
export class Cluster {
  servers: ServerProcess[] = []
  urls: string[] = []
  /** every socket opened by the running test, terminated after it */
  sockets: TestSocket[] = []
  env: Record<string, string> = {}
  private cleanup: (() => Promise<void>) | undefined

  async start(roles: ('all' | 'ws')[], extra: Record<string, string> = {}): Promise<void> {
    const backends = await productionLikeEnv({
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      WS_SESSION_CHECK_INTERVAL: '0.5',
      // the tests send in bursts; the limit itself is another file's subject
      WS_MESSAGES_PER_SECOND: '500',
      ...extra,
    })
    this.cleanup = backends.cleanup
    this.env = backends.env
    this.servers = roles.map((role) => spawnServer({ ...backends.env, APP_ROLE: role }))
    this.urls = await Promise.all(this.servers.map((server) => readyUrl(server)))
  }

  async stop(): Promise<void> {
    this.closeSockets()
    await Promise.all(this.servers.map((server) => server.stop()))
    await this.cleanup?.()
  }

  closeSockets(): void {
    for (const socket of this.sockets.splice(0)) socket.socket.terminate()
  }

  post(server: number, path: string, body: unknown, token?: string): Promise<Response> {
    return fetch(`${this.urls[server]}/v1.0/user${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
  }

  async register(server = 0): Promise<TestUser> {
    const id = crypto.randomUUID().slice(0, 8)
    const [email, name] = [`user-${id}@example.com`, `User ${id}`]
    const response = await this.post(server, '/register', { email, password: PASSWORD, display_name: name })
    expect(response.status).toBe(201)
    const token = ((await response.json()) as { data: { access_token: string } }).data.access_token
    return { email, name, token }
  }

  /** Another session of the same user. */
  async login(server: number, user: TestUser): Promise<TestUser> {
    const response = await this.post(server, '/auth', { email: user.email, password: PASSWORD })
    expect(response.status).toBe(200)
    return {
      ...user,
      token: ((await response.json()) as { data: { access_token: string } }).data.access_token,
    }
  }

  wsUrl(server: number): string {
    return this.urls[server]!.replace(/^http/, 'ws').replace(/\/api$/, '/ws')
  }

  /** Two new users on the given processes, both in a new room (`<what>-…`) that the first one created. */
  async twoInRoom(what: string, [first, second]: [number, number]) {
    const [alice, bob] = [await this.register(), await this.register()]
    const room = newRoomName(what)
    const a = await this.connect(first, alice)
    await a.createRoom(room)
    await a.join(room)
    const b = await this.connect(second, bob)
    await b.join(room)
    return { alice, bob, room, a, b }
  }

  async connect(server: number, user: TestUser): Promise<Client> {
    const socket = await openSocket(this.wsUrl(server), ['chat.v1', `bearer.${user.token}`])
    this.sockets.push(socket)
    const client = new Client(socket, user)
    client.welcome = await socket.nextOfType<Frame & { server: string; rooms: string[] }>('welcome')
    return client
  }
}

/** One chat.v1 connection, and what it has received. */
export class Client {
  welcome: (Frame & { server: string; rooms: string[] }) | undefined

  constructor(
    readonly socket: TestSocket,
    readonly user: TestUser,
  ) {}

  frames(): Frame[] {
    return this.socket.received.map((frame) => JSON.parse(frame) as Frame)
  }

  write(message: Record<string, unknown>): void {
    this.socket.socket.send(JSON.stringify(message))
  }

  /** Creates a room and waits until this client hears of it. */
  async createRoom(room: string): Promise<void> {
    this.write({ type: 'create_room', room })
    await this.socket.nextOfType<Frame>('room_created', (frame) => frame.room === room)
  }

  /** Joins and waits for `joined`; returns the history frames of that room (one join per room per client). */
  async join(room: string, since?: number): Promise<Frame[]> {
    this.write({ type: 'join', room, ...(since === undefined ? {} : { since }) })
    await this.socket.nextOfType<Frame>('joined', (frame) => frame.room === room, 10_000)
    return this.frames().filter((frame) => frame.type === 'history' && frame.room === room)
  }

  send(room: string, text: string, clientId: string = crypto.randomUUID()): Promise<Frame> {
    this.write({ type: 'send', room, clientId, text })
    return this.ack(clientId)
  }

  /** Sends one message per client id without waiting; the map fills with their acks as they come. */
  sendAll(room: string, clientIds: string[]): Map<string, Frame> {
    const acked = new Map<string, Frame>()
    this.socket.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame
      if (frame.type === 'ack') acked.set(frame.clientId!, frame)
    })
    clientIds.forEach((clientId) => this.write({ type: 'send', room, clientId, text: clientId }))
    return acked
  }

  ack(clientId: string, timeoutMs = 10_000): Promise<Frame> {
    return this.socket.nextOfType<Frame>('ack', (frame) => frame.clientId === clientId, timeoutMs)
  }

  /** Every message of the room this client has been given, history and live, in the order received. */
  messages(room: string): ChatMessage[] {
    return this.frames().flatMap((frame) => {
      if (frame.room !== room) return []
      if (frame.type === 'history') return frame.messages!
      if (frame.type === 'message') return [frame as unknown as ChatMessage]
      return []
    })
  }

  /** Waits until this client has `count` messages of the room. */
  awaitMessages(room: string, count: number, timeoutMs = 10_000): Promise<ChatMessage[]> {
    return waitFor(
      `${count} messages of ${room} at ${this.user.email}`,
      () => this.messages(room),
      (messages) => messages.length >= count,
      timeoutMs,
    )
  }

  /** The last `presence` (or, before any, `joined`) list of the room, as display names. */
  online(room: string): string[] | undefined {
    const last = this.frames()
      .filter((frame) => (frame.type === 'presence' || frame.type === 'joined') && frame.room === room)
      .at(-1)
    return last?.online?.map((user) => user.name)
  }
}
