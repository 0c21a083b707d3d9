import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestRedisPrefix, TEST_REDIS_URL } from '../test/backends.ts'
import { sleep } from '../test/test-app.ts'
import { MemorySessionStore } from './memory-session-store.ts'
import { RedisSessionStore } from './redis-session-store.ts'
import { tokenHash, type SessionLifetimes, type SessionStore } from './session-store.ts'

let redis: Redis
const prefixes: ReturnType<typeof createTestRedisPrefix>[] = []
const memoryStores: MemorySessionStore[] = []
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL)
})
afterAll(async () => {
  await Promise.all(prefixes.map((prefix) => prefix.drop()))
  memoryStores.forEach((store) => store.close())
  redis.disconnect()
})

const stores: { name: string; make: (lifetimes: SessionLifetimes) => SessionStore }[] = [
  {
    name: 'Redis',
    make: (lifetimes) => {
      const prefix = createTestRedisPrefix()
      prefixes.push(prefix)
      return new RedisSessionStore(redis, prefix.prefix, lifetimes)
    },
  },
  {
    name: 'in-process',
    make: (lifetimes) => {
      const store = new MemorySessionStore(lifetimes)
      memoryStores.push(store)
      return store
    },
  },
]

const alice = { id: '1', email: 'alice@example.com' }
const bob = { id: '2', email: 'bob@example.com' }
const long = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000 }

describe.each(stores)('$name session store', ({ make }) => {
  it('creates distinct sessions and finds their user', async () => {
    const store = make(long)
    const [first, second] = [await store.create(alice), await store.create(alice)]
    expect(first).not.toBe(second)
    expect((await store.touch(first))?.user).toEqual(alice)
    expect((await store.touch(second))?.user).toEqual(alice)
    expect((await store.touch('no-such-token'))?.user).toBeUndefined()
  })

  it('slides the idle timeout on use and ends an idle session', async () => {
    const store = make({ idleTimeoutMs: 400, absoluteTimeoutMs: 60_000 })
    const used = await store.create(alice)
    const idle = await store.create(alice)
    for (let i = 0; i < 3; i++) {
      await sleep(250)
      expect((await store.touch(used))?.user).toEqual(alice)
    }
    expect((await store.touch(idle))?.user).toBeUndefined()
    await sleep(500)
    expect((await store.touch(used))?.user).toBeUndefined()
  })

  it('ends a session at its absolute lifetime even when used', async () => {
    const store = make({ idleTimeoutMs: 300, absoluteTimeoutMs: 700 })
    const token = await store.create(alice)
    for (let i = 0; i < 3; i++) {
      await sleep(200)
      expect((await store.touch(token))?.user).toEqual(alice)
    }
    await sleep(250)
    expect((await store.touch(token))?.user).toBeUndefined()
  })

  it('revokes one session', async () => {
    const store = make(long)
    const token = await store.create(alice)
    const other = await store.create(alice)
    expect(await store.revoke(token)).toEqual(alice)
    expect(await store.revoke(token)).toBeUndefined()
    expect((await store.touch(token))?.user).toBeUndefined()
    expect((await store.touch(other))?.user).toEqual(alice)
  })

  it("revokes all of one user's sessions and no one else's", async () => {
    const store = make(long)
    const tokens = [await store.create(alice), await store.create(alice), await store.create(alice)]
    const bobs = await store.create(bob)
    await store.revoke(tokens[0]!)
    expect(await store.revokeAllForUser(alice.id)).toBe(2)
    for (const token of tokens) expect((await store.touch(token))?.user).toBeUndefined()
    expect((await store.touch(bobs))?.user).toEqual(bob)
    expect(await store.revokeAllForUser(alice.id)).toBe(0)
  })
})

describe('Redis session store at rest', () => {
  it('holds no live token, only its hash, and expires every key it writes', async () => {
    const prefix = createTestRedisPrefix()
    prefixes.push(prefix)
    const store = new RedisSessionStore(redis, prefix.prefix, long)
    const token = await store.create(alice)
    const keys = await redis.keys(`${prefix.prefix}*`)
    expect(keys.sort()).toEqual(
      [`${prefix.prefix}session:${tokenHash(token)}`, `${prefix.prefix}user-sessions:1`].sort(),
    )
    for (const key of keys) {
      const dump =
        (await redis.type(key)) === 'set' ? (await redis.smembers(key)).join() : await redis.get(key)
      expect(dump).not.toContain(token)
      expect(await redis.pttl(key)).toBeGreaterThan(0)
    }
    expect(await redis.pttl(`${prefix.prefix}session:${tokenHash(token)}`)).toBeLessThanOrEqual(
      long.idleTimeoutMs,
    )
  })
})
