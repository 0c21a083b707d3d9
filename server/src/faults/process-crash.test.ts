import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, newRoomName, sleep, waitFor, type Client, type TestUser } from '../test/cluster.ts'
import { refusedStatus } from '../test/ws-client.ts'

/** Connects to process 0, retrying while the user's slots are all taken (429), for at most `timeoutMs`. */
async function connectOnceFree(cluster: Cluster, user: TestUser, timeoutMs: number): Promise<Client> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await cluster.connect(0, user)
    } catch (error) {
      if (Date.now() > deadline || !String(error).includes('HTTP 429')) throw error
      await sleep(200)
    }
  }
}

// A ws process killed outright (SIGKILL: no 1001, no clean-up) must cost nothing acknowledged: its clients
// reconnect elsewhere and re-send what was not acknowledged; its users leave presence and free their
// connection slots once its heartbeats stop.
describe('a ws process that crashes', () => {
  const cluster = new Cluster()
  beforeAll(() =>
    cluster.start(['all', 'ws'], {
      // heartbeats every second: a dead process's presence lapses after 3 s, its connection slots after 1.5 s
      API_WEBSOCKET_TIMEOUT: '1',
      WS_MAX_CONNECTIONS_PER_USER: '3',
    }),
  )
  afterEach(() => cluster.closeSockets())
  afterAll(() => cluster.stop())

  it('loses nothing acknowledged, and its users leave presence and get their connection slots back', async () => {
    const [alice, bob] = [await cluster.register(), await cluster.register()]
    const room = newRoomName('crash')
    const a = await cluster.connect(0, alice)
    await a.createRoom(room)
    await a.join(room)
    const b = await cluster.connect(1, bob)
    await cluster.connect(1, bob)
    await cluster.connect(1, bob) // bob's third and last slot
    await b.join(room)
    await waitFor(
      'bob online at alice',
      () => a.online(room),
      (online) => !!online?.includes(bob.name),
    )
    const bobSocket = ['chat.v1', `bearer.${bob.token}`]
    expect(await refusedStatus(cluster.wsUrl(0), bobSocket)).toBe(429)

    // bob sends 40 without waiting; the ws process is killed once the first is acknowledged
    const clientIds = Array.from({ length: 40 }, (_, i) => `crash-${i}`)
    const acked = b.sendAll(room, clientIds)
    await b.ack(clientIds[0]!)
    cluster.servers[1]!.child.kill('SIGKILL')
    expect((await b.socket.closed).code).toBe(1006)

    // everything acknowledged is stored, as acknowledged
    const check = await cluster.connect(0, alice)
    const stored = (await check.join(room, 0)).flatMap((frame) => frame.messages!)
    const byClientId = new Map(stored.map((message) => [message.clientId, message]))
    for (const [clientId, ack] of acked)
      expect(byClientId.get(clientId)).toMatchObject({ id: ack.id, seq: ack.seq })

    // bob leaves alice's presence once the dead process's heartbeat lapses
    await waitFor(
      'bob gone from presence',
      () => a.online(room),
      (online) => !online?.includes(bob.name),
      8_000,
    )

    // bob's slots, held by the dead process, lapse too: he reconnects and re-sends what was not acknowledged
    const client = await connectOnceFree(cluster, bob, 8_000)
    await client.join(room)
    const pending = clientIds.filter((clientId) => !acked.has(clientId))
    pending.forEach((clientId) => client.write({ type: 'send', room, clientId, text: clientId }))
    await Promise.all(pending.map((clientId) => client.ack(clientId)))
    const all = (await (await cluster.connect(0, alice)).join(room, 0)).flatMap((frame) => frame.messages!)
    expect(all.map((message) => message.clientId)).toEqual(clientIds)
  })
})
