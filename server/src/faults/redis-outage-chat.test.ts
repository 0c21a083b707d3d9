import { afterAll, describe, expect, it } from 'vitest'
import { buildApp, type App } from '../app.ts'
import { loadConfig } from '../config/config.ts'
import { createTestDatabase, createTestRedisPrefix, TEST_REDIS_URL, uniqueName } from '../test/backends.ts'
import { startForwarder, type Forwarder } from '../test/tcp-relay.ts'
import { newEmail, postJson, sleep } from '../test/test-app.ts'
import { openSocket, type TestSocket } from '../test/ws-client.ts'

interface Frame {
  type: string
  room?: string
  seq?: number
  clientId?: string
  code?: string
  ref?: string
}

const framesOf = (socket: TestSocket) => socket.received.map((frame) => JSON.parse(frame) as Frame)
const seqsOf = (socket: TestSocket, room: string) =>
  framesOf(socket)
    .filter((frame) => frame.type === 'message' && frame.room === room)
    .map((frame) => frame.seq!)

/** Polls `condition` every 50 ms for at most `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

// Redis carries the fan-out between processes. While it is away, messages are still stored and
// acknowledged, open sockets stay open, and once it is back every process catches its rooms up from the
// database: members on the other process get every message, in order, with no gap.
describe('chat across two processes while Redis goes away and comes back', () => {
  const apps: App[] = []
  let redis: Forwarder
  let cleanup: () => Promise<void>
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()))
    await redis?.stop()
    await cleanup?.()
  })

  it('keeps the sockets open, stores and acknowledges sends, and delivers them all once Redis is back', async () => {
    const database = await createTestDatabase()
    const prefix = createTestRedisPrefix()
    cleanup = async () => void (await Promise.all([database.drop(), prefix.drop()]))
    const redisUrl = new URL(TEST_REDIS_URL)
    redis = await startForwarder(redisUrl.hostname, Number(redisUrl.port || 6379))
    redisUrl.hostname = '127.0.0.1'
    redisUrl.port = String(redis.port)
    const config = loadConfig({
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl.toString(),
      REDIS_KEY_PREFIX: prefix.prefix,
      LOG_LEVEL: 'silent',
      API_ADMIN_EMAIL: `${uniqueName('admin')}@example.com`,
      API_ADMIN_PASSWORD: 'admin-password-for-tests',
      WS_SESSION_CHECK_INTERVAL: '0.5',
    })
    for (let i = 0; i < 2; i++) apps.push(await buildApp(config))
    const urls = await Promise.all(
      apps.map(
        async (app) => `${(await app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')}/ws`,
      ),
    )
    const tokens: string[] = []
    for (let i = 0; i < 2; i++) {
      const response = await postJson(apps[0]!, '/api/v1.0/user/register', {
        email: newEmail(),
        password: 'a-good-password',
      })
      tokens.push(response.json().data.access_token as string)
    }
    const [alice, bob] = await Promise.all(
      urls.map((url, i) => openSocket(url, ['chat.v1', `bearer.${tokens[i]}`])),
    )
    for (const socket of [alice!, bob!]) {
      socket.socket.send(JSON.stringify({ type: 'join', room: 'general' }))
      await socket.nextOfType('joined')
    }
    const send = (clientId: string) =>
      alice!.socket.send(JSON.stringify({ type: 'send', room: 'general', clientId, text: clientId }))
    const ackOf = (clientId: string) =>
      alice!.nextOfType<Frame>('ack', (frame) => frame.clientId === clientId, 10_000)

    send('before')
    const first = await ackOf('before')
    await waitFor('the first message at bob', () => seqsOf(bob!, 'general').includes(first.seq!), 5_000)

    redis.cut()
    const during = ['during-1', 'during-2', 'during-3']
    for (const clientId of during) {
      send(clientId)
      await ackOf(clientId) // stored: PostgreSQL is fine
    }
    await sleep(1_500) // three session checks fail meanwhile: nobody is logged out for it
    expect([alice!, bob!].map((socket) => socket.socket.readyState)).toEqual([1, 1])

    redis.restore()
    send('after')
    const last = await ackOf('after')
    await waitFor('every message at bob', () => seqsOf(bob!, 'general').includes(last.seq!), 15_000)
    expect(seqsOf(bob!, 'general')).toEqual(
      Array.from({ length: last.seq! - first.seq! + 1 }, (_, i) => first.seq! + i),
    )
    for (const socket of [alice!, bob!]) socket.socket.terminate()
  })
})
