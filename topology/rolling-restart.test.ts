import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSocket, productionLikeEnv, type TestSocket } from '@chat/server/testing'
import { startStack, type StackUnderTest } from './stack-under-test.ts'

const CLIENTS = 4
/** a send every this often per client: under the 10 a second the server allows, resends included */
const SEND_EVERY_MS = 150
const MAX_UNACKED = 3

interface ChatFrame {
  type: string
  server?: string
  clientId?: string
  seq?: number
  messages?: { seq: number; clientId: string }[]
}

/**
 * A chat client as the SPA behaves: on a close it reconnects with the same token, joins with `since` its
 * last seq, and sends again whatever was not acked (same clientId, so the server stores it once).
 */
class ResilientClient {
  readonly acks = new Map<string, number>()
  readonly seen: { seq: number; clientId: string }[] = []
  readonly servers = new Set<string>()
  readonly closeCodes: number[] = []
  readonly refusals: string[] = []
  /** error frames: none is expected (no rate limit hit, no unavailable) */
  readonly errors: string[] = []
  private readonly unacked = new Map<string, string>()
  private socket: TestSocket | undefined
  private joined = false
  private sent = 0
  private stopped = false

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly token: string,
    private readonly ca: string,
    private readonly room: string,
  ) {}

  get lastSeq() {
    return this.seen.at(-1)?.seq ?? 0
  }
  get pending() {
    return this.unacked.size
  }

  async connect(): Promise<void> {
    // bounded: a process restarting refuses (502/503 through nginx) for a moment at most
    for (let attempt = 0; attempt < 200 && !this.stopped; attempt++) {
      try {
        this.socket = await openSocket(this.url, ['chat.v1', `bearer.${this.token}`], { ca: this.ca })
        break
      } catch (error) {
        this.refusals.push(String(error))
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    const socket = this.socket
    if (!socket) throw new Error(`${this.name} could not reconnect: ${this.refusals.join('; ')}`)
    this.joined = false
    socket.socket.on('message', (data) => this.onFrame(JSON.parse(data.toString()) as ChatFrame))
    void socket.closed.then(({ code }) => {
      this.closeCodes.push(code)
      this.joined = false
      if (!this.stopped) void this.connect()
    })
    socket.socket.send(JSON.stringify({ type: 'join', room: this.room, since: this.lastSeq }))
  }

  /**
   * A new message now, or queued until the client is back in the room; at most MAX_UNACKED wait at once,
   * as an outbox would hold them, so the resend after a reconnect stays within the rate limit.
   */
  sendNext(): void {
    if (this.unacked.size >= MAX_UNACKED) return
    const clientId = `${this.name}-${++this.sent}`
    this.unacked.set(clientId, `message ${this.sent} from ${this.name}`)
    if (this.joined) this.transmit(clientId)
  }

  close(): void {
    this.stopped = true
    this.socket?.socket.close()
  }

  private transmit(clientId: string): void {
    const text = this.unacked.get(clientId)!
    this.socket!.socket.send(JSON.stringify({ type: 'send', room: this.room, clientId, text }))
  }

  private onFrame(frame: ChatFrame): void {
    switch (frame.type) {
      case 'welcome':
        this.servers.add(frame.server!)
        return
      case 'history':
        for (const message of frame.messages!) this.see(message)
        return
      case 'message':
        return this.see({ seq: frame.seq!, clientId: frame.clientId! })
      case 'joined':
        this.joined = true
        for (const clientId of this.unacked.keys()) this.transmit(clientId)
        return
      case 'ack':
        this.acks.set(frame.clientId!, (this.acks.get(frame.clientId!) ?? 0) + 1)
        this.unacked.delete(frame.clientId!)
        return
      case 'error':
        this.errors.push(JSON.stringify(frame))
        return
    }
  }

  private see(message: { seq: number; clientId: string }): void {
    this.seen.push({ seq: message.seq, clientId: message.clientId })
  }
}

describe('a rolling restart of the ws processes behind real nginx (make restart-stack-ws)', () => {
  let stack: StackUnderTest
  let cleanup: (() => Promise<void>) | undefined

  beforeAll(async () => {
    const backends = await productionLikeEnv({ SHUTDOWN_DRAIN_SECONDS: '0.5' })
    cleanup = backends.cleanup
    stack = await startStack(backends.env)
  })
  afterAll(async () => {
    await stack?.stop()
    await cleanup?.()
  })

  it('loses nothing: every message acked once, every client sees all in order, nobody logs in again', async () => {
    const wsUrl = `${stack.url.replace('https', 'wss')}/ws`
    const tokens: string[] = []
    for (let index = 0; index < CLIENTS; index++) {
      const credentials = {
        email: `rolling-${index}-${crypto.randomUUID().slice(0, 6)}@example.com`,
        password: 'a-good-password',
      }
      const response = await stack.fetch(`${stack.url}/api/v1.0/user/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(credentials),
      })
      expect(response.status).toBe(201)
      tokens.push(((await response.json()) as { data: { access_token: string } }).data.access_token)
    }
    const room = 'general'
    const clients = tokens.map(
      (token, index) => new ResilientClient(`c${index}`, wsUrl, token, stack.ca, room),
    )
    await Promise.all(clients.map((client) => client.connect()))
    // history of the room before this test is not this test's business: count from where each joined
    await expect.poll(() => clients.every((client) => client.servers.size === 1)).toBe(true)
    const sender = setInterval(() => clients.forEach((client) => client.sendNext()), SEND_EVERY_MS)
    try {
      await new Promise((resolve) => setTimeout(resolve, 600))
      await stack.restartWs()
      await new Promise((resolve) => setTimeout(resolve, 600))
    } finally {
      clearInterval(sender)
    }
    await expect
      .poll(() => clients.reduce((sum, client) => sum + client.pending, 0), { timeout: 20_000 })
      .toBe(0)
    const sentIds = clients.flatMap((client) => [...client.acks.keys()])
    // every client sees every message (its own included), each once, in seq order with no gap
    await expect
      .poll(() => clients.map((client) => client.seen.length), { timeout: 20_000 })
      .toEqual(clients.map(() => sentIds.length))
    for (const client of clients) {
      expect(
        [...client.acks.values()].every((count) => count === 1),
        `${client.name} acked once each`,
      ).toBe(true)
      const seqs = client.seen.map((message) => message.seq)
      const first = seqs[0]!
      expect(seqs).toEqual(seqs.map((_, index) => first + index))
      expect(new Set(client.seen.map((message) => message.clientId))).toEqual(new Set(sentIds))
      // the restart happened under it: closed as going away, back on a new process, never sent to log in
      expect(client.closeCodes.length).toBeGreaterThanOrEqual(1)
      expect(client.closeCodes.every((code) => code === 1001 || code === 1006)).toBe(true)
      expect(client.servers.size).toBeGreaterThanOrEqual(2)
      // not one reconnect refused: no 401 (log in again), and no 502 (nginx finding no ws process)
      expect(client.refusals).toEqual([])
      expect(client.errors).toEqual([])
    }
    expect(sentIds.length).toBeGreaterThan(CLIENTS * 5)
    clients.forEach((client) => client.close())
  })
})
