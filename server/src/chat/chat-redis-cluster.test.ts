import type { ChatMessage } from '@chat/contract'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, newRoomName, PASSWORD, sleep, type Client, type Frame } from '../test/cluster.ts'
import { startRedisCluster, type OwnRedisCluster } from '../test/redis-cluster.ts'
import { refusedStatus } from '../test/ws-client.ts'

const seqsOf = (messages: ChatMessage[]) => messages.map((message) => message.seq)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** Which master holds the room's channel: the one whose PUBSUB SHARDCHANNELS lists it. */
async function mastersOfChannel(redis: OwnRedisCluster, pattern: string): Promise<number[]> {
  const listed = await Promise.all(redis.clients().map((client) => client.pubsub('SHARDCHANNELS', pattern)))
  return listed.flatMap((channels, index) => ((channels as string[]).length > 0 ? [index] : []))
}

/**
 * Sends each client id in turn until it is acked: an `unavailable` with `stored: false` (a store of ours
 * on the master that is down) is sent again, as docs/protocol.md tells clients to.
 */
async function sendUntilAcked(client: Client, room: string, clientIds: string[]): Promise<Frame[]> {
  const acks: Frame[] = []
  for (const clientId of clientIds) {
    for (;;) {
      client.write({ type: 'send', room, clientId, text: clientId })
      const answer = JSON.parse(
        await client.socket.next((text) => {
          const frame = JSON.parse(text) as Frame & { ref?: string; stored?: boolean }
          return (
            (frame.type === 'ack' && frame.clientId === clientId) ||
            (frame.type === 'error' && frame.ref === clientId && frame.stored === false)
          )
        }, 10_000),
      ) as Frame
      if (answer.type === 'ack') {
        acks.push(answer)
        break
      }
      await sleep(200)
    }
  }
  return acks
}

// Three processes (one `all`, two `ws`) on one PostgreSQL database and a real 3-master Redis Cluster
// (REDIS_CLUSTER_NODES): room channels on sharded pub/sub, sessions, limiters, connection slots and
// presence on keys that keep each command to one slot.
describe('chat across processes on a Redis Cluster', () => {
  let redis: OwnRedisCluster
  const cluster = new Cluster()
  beforeAll(async () => {
    redis = await startRedisCluster(3)
    await cluster.start(['all', 'ws', 'ws'], {
      REDIS_CLUSTER_NODES: redis.nodesVariable,
      WS_MAX_CONNECTIONS_PER_USER: '3',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
    })
  }, 60_000)
  afterEach(() => cluster.closeSockets())
  afterAll(async () => {
    await cluster.stop()
    await redis?.stop()
  })

  it('delivers every message to members on the other processes in order, exactly once, over sharded pub/sub', async () => {
    const [alice, bob, carol] = [await cluster.register(), await cluster.register(), await cluster.register()]
    const a = await cluster.connect(0, alice)
    const b = await cluster.connect(1, bob)
    const c = await cluster.connect(2, carol)
    // rooms enough that their channels land on more than one master
    const rooms = Array.from({ length: 6 }, () => newRoomName('sharded'))
    for (const room of rooms) {
      await a.createRoom(room)
      for (const client of [a, b, c]) await client.join(room)
    }
    const owners = new Set(
      (await Promise.all(rooms.map((room) => mastersOfChannel(redis, `*room:${room}`)))).flat(),
    )
    expect(owners.size).toBeGreaterThan(1)
    // each room's channel is subscribed on exactly one master, and nothing uses classic pub/sub for rooms
    for (const room of rooms) expect(await mastersOfChannel(redis, `*room:${room}`)).toHaveLength(1)
    for (const client of redis.clients()) expect(await client.pubsub('CHANNELS', '*room:*')).toEqual([])

    const perRoom = 20
    const sent = rooms.map((room) => Array.from({ length: perRoom }, (_, i) => `${room}:${i}`))
    const acks = await Promise.all(
      rooms.map((room, index) => {
        sent[index]!.forEach((clientId) => a.write({ type: 'send', room, clientId, text: clientId }))
        return Promise.all(sent[index]!.map((clientId) => a.ack(clientId, 20_000)))
      }),
    )
    for (const [index, room] of rooms.entries()) {
      expect(seqsOf(acks[index] as unknown as ChatMessage[])).toEqual(range(1, perRoom))
      for (const client of [b, c]) {
        const view = await client.awaitMessages(room, perRoom)
        expect(seqsOf(view)).toEqual(range(1, perRoom))
        expect(view.map((message) => message.clientId)).toEqual(sent[index])
      }
    }
  })

  it('keeps sessions, login limits, connection slots and presence on the cluster, shared by every process', async () => {
    // presence written by one process is read by another
    const { alice, bob, room, a, b } = await cluster.twoInRoom('shared', [1, 2])
    expect(b.online(room)?.sort()).toEqual([alice.name, bob.name].sort())

    // connection slots: three sockets per user across processes, the fourth refused
    await cluster.connect(0, alice)
    await cluster.connect(2, alice)
    expect(await refusedStatus(cluster.wsUrl(0), ['chat.v1', `bearer.${alice.token}`])).toBe(429)

    // the per-account limit counts failures from every process in one counter
    const wrong = { email: bob.email, password: 'not-the-password' }
    for (let i = 0; i < 3; i++) expect((await cluster.post(0, '/auth', wrong)).status).toBe(401)
    expect((await cluster.post(0, '/auth', { email: bob.email, password: PASSWORD })).status).toBe(429)

    // a logout through the API process closes the session's sockets on the ws processes (session events
    // travel on the sharded bus too)
    expect((await cluster.post(0, '/logout', {}, alice.token)).status).toBe(200)
    expect((await a.socket.closed).code).toBe(4001)
    expect(await refusedStatus(cluster.wsUrl(2), ['chat.v1', `bearer.${alice.token}`])).toBe(401)
    expect(b.socket.socket.readyState).toBe(b.socket.socket.OPEN)
  })

  it('delivers again after a master restarts, and loses no acknowledged message', async () => {
    const { room, a, b } = await cluster.twoInRoom('restart', [0, 2])
    const [master] = await mastersOfChannel(redis, `*room:${room}`)
    const before = await sendUntilAcked(
      a,
      room,
      range(1, 5).map((i) => `before:${i}`),
    )
    await b.awaitMessages(room, before.length)

    // the master holding the room's channel (and some of every store's keys) crashes and comes back
    const restarting = redis.restart(master!)
    const during = sendUntilAcked(
      a,
      room,
      range(1, 10).map((i) => `during:${i}`),
    )
    await restarting
    await during
    await sleep(500)
    const after = await sendUntilAcked(
      a,
      room,
      range(1, 5).map((i) => `after:${i}`),
    )
    const total = after.at(-1)!.seq!
    const view = await b.awaitMessages(room, total, 20_000)
    expect(seqsOf(view)).toEqual(range(1, total))
    expect(view.map((message) => message.clientId)).toEqual([
      ...range(1, 5).map((i) => `before:${i}`),
      ...range(1, 10).map((i) => `during:${i}`),
      ...range(1, 5).map((i) => `after:${i}`),
    ])
    // both sockets lived through it
    for (const client of [a, b]) expect(client.socket.socket.readyState).toBe(client.socket.socket.OPEN)
  }, 60_000)
})
