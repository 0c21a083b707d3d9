import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp, type App } from '../app.ts'
import { backends, createTestRedisPrefix, realBackend, TEST_REDIS_URL } from '../test/backends.ts'
import { newEmail, postJson, sleep, startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket, type TestSocket } from '../test/ws-client.ts'
import { RedisConnectionSlots } from '../ws/connection-slots.ts'

const CAP = 5

async function listen(app: App): Promise<string> {
  return `${(await app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')}/ws`
}

async function register(app: App): Promise<string> {
  const response = await postJson(app, '/api/v1.0/user/register', {
    email: newEmail(),
    password: 'a-good-password',
  })
  return response.json().data.access_token
}

/**
 * `count` upgrades of one user, `inFlight` at a time, spread over the given URLs: the sockets that
 * opened, and how many were refused with which answer.
 */
async function storm(urls: string[], token: string, count: number, inFlight: number) {
  const opened: TestSocket[] = []
  const refusals: string[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      const url = urls[next++ % urls.length]!
      try {
        opened.push(await openSocket(url, ['chat.v1', `bearer.${token}`]))
      } catch (error) {
        refusals.push((error as Error).message)
      }
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return { opened, refusals }
}

const closeAll = async (sockets: TestSocket[]) => {
  for (const socket of sockets) socket.socket.close()
  await Promise.all(sockets.map((socket) => socket.closed))
}

describe.each(backends)('the per-user connection cap on $name', (backend) => {
  let t: TestApp
  afterAll(() => t?.close())

  // Before slots were taken atomically, 2,000 upgrades 100 at a time opened 80 sockets against a cap of 20.
  it('holds under 300 parallel upgrades, 50 in flight, and frees each slot when its socket closes', async () => {
    t = await startTestApp(backend, { WS_MAX_CONNECTIONS_PER_USER: String(CAP) })
    const url = await listen(t.app)
    const token = await register(t.app)
    const { opened, refusals } = await storm([url], token, 300, 50)
    expect(opened).toHaveLength(CAP)
    expect(new Set(refusals)).toEqual(new Set(['HTTP 429']))

    await closeAll(opened)
    await sleep(50) // the server sees the close a moment after the client
    const again = await storm([url], token, 20, 10)
    expect(again.opened).toHaveLength(CAP)
    await closeAll(again.opened)
  })
})

describe('the per-user connection cap across two ws processes on one Redis', () => {
  const apps: App[] = []
  let cleanup: (() => Promise<void>) | undefined
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()))
    await cleanup?.()
  })

  it('counts the sockets of both processes against one cap', async () => {
    const setup = await realBackend.setup({ WS_MAX_CONNECTIONS_PER_USER: String(CAP) })
    cleanup = setup.cleanup
    for (let i = 0; i < 2; i++) apps.push(await buildApp(setup.config))
    const urls = await Promise.all(apps.map(listen))
    const token = await register(apps[0]!)
    const { opened, refusals } = await storm(urls, token, 200, 40)
    expect(opened).toHaveLength(CAP)
    expect(new Set(refusals)).toEqual(new Set(['HTTP 429']))
    // both processes took part, and a slot freed on one is usable from the other
    const onFirst = opened.filter((socket) => socket.socket.url.startsWith(urls[0]!))
    expect(onFirst.length).toBeGreaterThan(0)
    expect(onFirst.length).toBeLessThan(CAP)
    await closeAll(onFirst)
    await sleep(50)
    const again = await storm([urls[1]!], token, 20, 5)
    expect(again.opened).toHaveLength(onFirst.length)
    await closeAll([...opened, ...again.opened].filter((socket) => !onFirst.includes(socket)))
  })
})

describe('Redis connection slots of a process that died', () => {
  const redis = new Redis(TEST_REDIS_URL)
  const prefix = createTestRedisPrefix()
  afterAll(async () => {
    await prefix.drop()
    redis.disconnect()
  })

  it('lapse once it stops renewing them, while a live process keeps its own', async () => {
    const silentLog = { warn: () => {} } as never
    const slots = (renewMs: number) => new RedisConnectionSlots(redis, prefix.prefix, 2, renewMs, silentLog)
    const dead = slots(100)
    const live = slots(100)
    expect(await dead.take('7', 'a')).toBe(true)
    expect(await live.take('7', 'b')).toBe(true)
    expect(await live.take('7', 'c')).toBe(false)
    dead.close() // it crashed: no release, no more renewals
    await sleep(600) // past three intervals
    expect(await live.take('7', 'c')).toBe(true)
    expect(await live.take('7', 'd')).toBe(false) // b is still held: its process renewed it
    live.close()
  })
})
