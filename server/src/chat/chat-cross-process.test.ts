import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { productionLikeEnv } from '../test/backends.ts'
import { spawnServer, type ServerProcess } from '../test/server-process.ts'
import { openSocket, type TestSocket } from '../test/ws-client.ts'

interface Message {
  type: string
  seq: number
  id: string
  text: string
  clientId: string
  online?: { email: string }[]
  messages?: Message[]
}

/** Two server processes sharing one PostgreSQL database and one Redis prefix, as two ws replicas would. */
describe('chat across two server processes', () => {
  let cleanup: (() => Promise<void>) | undefined
  let servers: ServerProcess[] = []
  let urls: string[] = []
  const sockets: TestSocket[] = []

  beforeAll(async () => {
    const backends = await productionLikeEnv({
      WS_SESSION_CHECK_INTERVAL: '0.5',
      WS_MESSAGES_PER_SECOND: '200',
      LOG_LEVEL: 'info',
    })
    cleanup = backends.cleanup
    const { env } = backends
    servers = [spawnServer(env), spawnServer(env)]
    urls = await Promise.all(servers.map((server) => server.ready()))
  })
  afterAll(async () => {
    for (const socket of sockets) socket.socket.terminate()
    await Promise.all(servers.map((server) => server.stop()))
    await cleanup?.()
  })

  const post = async (server: number, path: string, body: unknown, token?: string) =>
    fetch(`${urls[server]}/v1.0/user${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })

  async function newUser(): Promise<{ email: string; token: string }> {
    const email = `user-${crypto.randomUUID().slice(0, 8)}@example.com`
    const response = await post(0, '/register', { email, password: 'a-good-password' })
    return { email, token: ((await response.json()) as { data: { access_token: string } }).data.access_token }
  }

  async function join(server: number, token: string, room = 'general', since?: number) {
    const socket = await openSocket(urls[server]!.replace('http', 'ws').replace(/\/api$/, '/ws'), [
      'chat.v1',
      `bearer.${token}`,
    ])
    sockets.push(socket)
    await socket.nextOfType('welcome')
    socket.socket.send(JSON.stringify({ type: 'join', room, ...(since === undefined ? {} : { since }) }))
    await socket.nextOfType('joined')
    return socket
  }

  const send = (socket: TestSocket, text: string, clientId = crypto.randomUUID(), room = 'general') => {
    socket.socket.send(JSON.stringify({ type: 'send', room, clientId, text }))
    return socket.nextOfType<Message>('ack', (m) => m.clientId === clientId)
  }

  const messagesOf = (socket: TestSocket) =>
    socket.received
      .map((frame) => JSON.parse(frame) as Message)
      .flatMap((m) => (m.type === 'message' ? [m] : m.type === 'history' ? m.messages! : []))

  it('delivers a message stored on one process to a member on the other, after the ack', async () => {
    const [alice, bob] = [await newUser(), await newUser()]
    const a = await join(0, alice.token)
    const b = await join(1, bob.token)
    const ack = await send(a, 'hello from process one')
    const received = await b.nextOfType<Message>('message', (m) => m.text === 'hello from process one')
    expect(received).toMatchObject({ id: ack.id, seq: ack.seq })
    expect(await a.nextOfType<Message>('message', (m) => m.id === ack.id)).toBeDefined()
  })

  it('resumes on the other process with exactly what was missed, in order, then carries on live', async () => {
    const [alice, bob] = [await newUser(), await newUser()]
    const a = await join(0, alice.token)
    const b = await join(1, bob.token)
    const first = await send(a, 'seen by bob')
    await b.nextOfType('message', (m: Message) => m.id === first.id)
    b.socket.terminate()
    const missed: number[] = []
    for (let i = 0; i < 230; i++) missed.push((await send(a, `missed ${i}`)).seq)
    const back = await join(0, bob.token, 'general', first.seq)
    const live = await send(a, 'after the resume')
    await back.nextOfType('message', (m: Message) => m.id === live.id)
    const seqs = messagesOf(back).map((m) => m.seq)
    expect(seqs).toEqual([...missed, live.seq])
    const pages = back.received
      .map((frame) => JSON.parse(frame) as Message & { done: boolean })
      .filter((m) => m.type === 'history')
    expect(pages.length).toBeGreaterThan(1)
    expect(pages.at(-1)!.done).toBe(true)
  })

  it('stores a re-sent client id once, from either process, and repeats the ack', async () => {
    const [alice, bob] = [await newUser(), await newUser()]
    const a1 = await join(0, alice.token)
    const a2 = await join(1, alice.token)
    const b = await join(1, bob.token)
    const clientId = crypto.randomUUID()
    const acks = [
      await send(a1, 'only once', clientId),
      await send(a1, 'only once', clientId),
      await send(a2, 'only once', clientId),
    ]
    expect(new Set(acks.map((ack) => `${ack.id}/${ack.seq}`)).size).toBe(1)
    const marker = await send(a1, 'marker')
    await b.nextOfType('message', (m: Message) => m.id === marker.id)
    expect(messagesOf(b).filter((m) => m.clientId === clientId)).toHaveLength(1)
  })

  it('shares presence and typing across processes', async () => {
    const [alice, bob] = [await newUser(), await newUser()]
    const a = await join(0, alice.token, 'general')
    const b = await join(1, bob.token, 'general')
    await a.nextOfType('presence', (m: Message) => m.online!.some((user) => user.email === bob.email))
    b.socket.send(JSON.stringify({ type: 'typing', room: 'general', typing: true }))
    expect(
      await a.nextOfType('typing', (m: { user: { email: string } }) => m.user.email === bob.email),
    ).toMatchObject({ typing: true })
    b.socket.close()
    await a.nextOfType(
      'presence',
      (m: Message) => !m.online!.some((user) => user.email === bob.email),
      10_000,
    )
  })

  it('closes, within a second and with 4001, a socket on the other process when its session logs out', async () => {
    const bob = await newUser()
    const b = await join(1, bob.token)
    const started = Date.now()
    expect((await post(0, '/logout', {}, bob.token)).status).toBe(200)
    const closed = await b.closed
    expect(closed.code).toBe(4001)
    expect(Date.now() - started).toBeLessThan(1_000)
  })

  it('closes every socket of a user on both processes on "log out everywhere"', async () => {
    const carol = await newUser()
    const other = (
      (await (await post(1, '/auth', { email: carol.email, password: 'a-good-password' })).json()) as {
        data: { access_token: string }
      }
    ).data.access_token
    const held = [await join(0, carol.token), await join(1, carol.token), await join(1, other)]
    const started = Date.now()
    await post(1, '/logout-all', {}, other)
    for (const socket of held) expect((await socket.closed).code).toBe(4001)
    expect(Date.now() - started).toBeLessThan(1_000)
  })

  it('announces a new room to clients on the other process, who can then chat in it', async () => {
    const [alice, bob] = [await newUser(), await newUser()]
    const a = await join(0, alice.token)
    const b = await join(1, bob.token)
    const room = `room-${crypto.randomUUID().slice(0, 8)}`
    a.socket.send(JSON.stringify({ type: 'create_room', room }))
    await b.nextOfType('room_created', (m: { room: string }) => m.room === room)
    b.socket.send(JSON.stringify({ type: 'join', room }))
    await b.nextOfType('joined', (m: { room: string }) => m.room === room)
    a.socket.send(JSON.stringify({ type: 'join', room }))
    await a.nextOfType('joined', (m: { room: string }) => m.room === room)
    const ack = await send(a, 'in the new room', undefined, room)
    expect(await b.nextOfType('message', (m: Message & { room: string }) => m.room === room)).toMatchObject({
      id: ack.id,
    })
  })

  it('gives every member every message of concurrent senders on both processes, in one order with no gap', async () => {
    const users = [await newUser(), await newUser(), await newUser()]
    const room = `busy-${crypto.randomUUID().slice(0, 8)}`
    const creator = await join(0, users[0]!.token)
    creator.socket.send(JSON.stringify({ type: 'create_room', room }))
    await creator.nextOfType('room_created', (m: { room: string }) => m.room === room)
    const clients = [
      await join(0, users[0]!.token, room),
      await join(1, users[1]!.token, room),
      await join(1, users[2]!.token, room),
    ]
    await Promise.all(
      clients.map(async (client, who) => {
        for (let i = 0; i < 30; i++) await send(client, `${who}:${i}`, undefined, room)
      }),
    )
    for (const client of clients) {
      const deadline = Date.now() + 10_000
      while (
        messagesOf(client).filter((m) => (m as Message & { room: string }).room === room).length < 90 &&
        Date.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const seqs = messagesOf(client)
        .filter((m) => (m as Message & { room: string }).room === room)
        .map((m) => m.seq)
      expect(seqs).toEqual(Array.from({ length: 90 }, (_, i) => i + 1))
    }
  })

  it('closes its sockets with 1001 on SIGTERM and keeps everything acknowledged', async () => {
    const [alice, bob] = [await newUser(), await newUser()]
    const b = await join(1, bob.token)
    const acked = [await send(b, 'before shutdown 1'), await send(b, 'before shutdown 2')]
    const closed = b.closed
    expect(await servers[1]!.stop()).toBe(0)
    expect((await closed).code).toBe(1001)
    const check = await join(0, alice.token, 'general', acked[0]!.seq - 1)
    expect(messagesOf(check).map((m) => m.id)).toEqual(expect.arrayContaining(acked.map((ack) => ack.id)))
  })
})
