// `npm run bench:history`: the cost of the read path for a page of history, as a client sees it: a
// `history` request over chat.v1 to a server (in this process) on PostgreSQL, answered with one frame,
// in a room of 100,000 messages. Pages of 50 and 500: the newest, one from the middle (scrolling back),
// and one read forward (a resume) across edits, deletions and reactions. Medians and spread over rounds;
// writes bench/results/history-<stamp>.json and .md.
import { mkdirSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { cpus } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { WebSocket, type RawData } from 'ws'
import { buildApp, loadConfig } from '@chat/server'
import { productionLikeEnv } from '@chat/server/testing'
import { connect, percentile } from './scenarios.ts'

/** The frames a socket receives, awaited by type. */
class Frames {
  private readonly queue: string[] = []
  private waiter: (() => void) | undefined
  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: RawData) => {
      this.queue.push(data.toString())
      this.waiter?.()
    })
  }
  say(message: unknown): void {
    this.socket.send(JSON.stringify(message))
  }
  async nextRaw(type: string): Promise<string> {
    for (;;) {
      const index = this.queue.findIndex((frame) => (JSON.parse(frame) as { type: string }).type === type)
      if (index !== -1) return this.queue.splice(0, index + 1).at(-1)!
      await new Promise<void>((resolve) => (this.waiter = resolve))
    }
  }
  async next(type: string): Promise<{ type: string; seq?: number }> {
    return JSON.parse(await this.nextRaw(type)) as { type: string; seq?: number }
  }
  async waitFor(test: (frame: { type: string; seq?: number; code?: string }) => boolean): Promise<void> {
    for (;;) {
      while (this.queue.length > 0) {
        const frame = JSON.parse(this.queue.shift()!) as { type: string; seq?: number; code?: string }
        if (frame.type === 'error') throw new Error(`the server refused: ${JSON.stringify(frame)}`)
        if (test(frame)) return
      }
      await new Promise<void>((resolve) => (this.waiter = resolve))
    }
  }
}

const ROOM_SIZE = Number(process.env.BENCH_ROOM_SIZE ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200)
const WARM_UP = 20
const here = import.meta.dirname

const { env, cleanup } = await productionLikeEnv({ LOG_LEVEL: 'warn', WS_MESSAGES_PER_SECOND: '10000' })
const app = await buildApp(loadConfig(env))
await app.listen({ host: '127.0.0.1', port: 0 })
const base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`
const db = new pg.Client({ connectionString: env.DATABASE_URL })
await db.connect()

try {
  const registered = await fetch(`http://${base}/api/v1.0/user/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@example.com', password: 'a-good-password', display_name: 'Bench' }),
  })
  const token = ((await registered.json()) as { data: { access_token: string } }).data.access_token
  const socket = await connect(`ws://${base}/ws`, ['chat.v1', `bearer.${token}`])
  const frames = new Frames(socket)
  await frames.next('welcome')
  const room = 'history-bench'
  frames.say({ type: 'create_room', room })
  await frames.next('room_created')

  // the room's messages in one statement per 20,000, as a room that has lived long; then edits,
  // deletions and reactions near the end, through the protocol, so the resumed page has events to read
  const started = performance.now()
  for (let from = 1; from <= ROOM_SIZE; from += 20_000) {
    await db.query(
      `insert into messages (room_id, seq, user_id, client_id, body)
       select r.id, g, u.id, 'bulk-' || g, 'a message of ordinary length, number ' || g
       from rooms r, users u, generate_series($1::bigint, $2::bigint) g
       where r.name = $3 and u.email = 'bench@example.com'`,
      [from, Math.min(from + 19_999, ROOM_SIZE), room],
    )
  }
  await db.query('update rooms set last_seq = $1 where name = $2', [ROOM_SIZE, room])
  await db.query('analyze messages')
  console.log(`filled ${ROOM_SIZE} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  frames.say({ type: 'join', room })
  await frames.next('joined')
  const changed = ROOM_SIZE - 400
  for (let i = 0; i < 100; i++) {
    const seq = changed + i * 3
    frames.say({ type: 'edit', room, seq, text: `edited ${seq}` })
    frames.say({ type: 'react', room, seq: seq + 1, emoji: '👍', on: true })
    frames.say({ type: 'delete', room, seq: seq + 2 })
  }
  await frames.waitFor((frame) => frame.type === 'message_updated' && frame.seq === ROOM_SIZE + 300)

  const cases = [50, 500].flatMap((limit) => [
    { name: `newest page of ${limit}`, request: { limit } },
    { name: `page of ${limit} before the middle`, request: { before: ROOM_SIZE / 2, limit } },
    { name: `page of ${limit} read forward across 300 events`, request: { after: changed - 100, limit } },
  ])
  const results = []
  for (const { name, request } of cases) {
    const times: number[] = []
    let bytes = 0
    for (let round = 0; round < WARM_UP + ROUNDS; round++) {
      const began = performance.now()
      frames.say({ type: 'history', room, ...request })
      const answer = await frames.nextRaw('history')
      if (round >= WARM_UP) times.push(performance.now() - began)
      bytes = answer.length
    }
    const figures = {
      name,
      rounds: ROUNDS,
      medianMs: percentile(times, 0.5),
      p25Ms: percentile(times, 0.25),
      p75Ms: percentile(times, 0.75),
      p95Ms: percentile(times, 0.95),
      minMs: Math.min(...times),
      maxMs: Math.max(...times),
      frameBytes: bytes,
    }
    results.push(figures)
    console.log(
      `${name}: median ${figures.medianMs.toFixed(2)} ms (IQR ${figures.p25Ms.toFixed(2)}–${figures.p75Ms.toFixed(2)}, p95 ${figures.p95Ms.toFixed(2)}, max ${figures.maxMs.toFixed(2)}), ${bytes} bytes`,
    )
  }
  socket.close()

  const stamp = new Date().toISOString().replace(/:/g, '-').slice(0, 19)
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`
  mkdirSync(path.join(here, 'results'), { recursive: true })
  writeFileSync(
    path.join(here, 'results', `history-${stamp}.json`),
    JSON.stringify({ roomSize: ROOM_SIZE, machine, results }, null, 2),
  )
  const table = results
    .map(
      (r) =>
        `| ${r.name} | ${r.medianMs.toFixed(2)} | ${r.p25Ms.toFixed(2)}–${r.p75Ms.toFixed(2)} | ${r.p95Ms.toFixed(2)} | ${r.maxMs.toFixed(2)} | ${r.frameBytes} |`,
    )
    .join('\n')
  writeFileSync(
    path.join(here, 'results', `history-${stamp}.md`),
    `# History read path, room of ${ROOM_SIZE.toLocaleString('en')} messages (PostgreSQL)\n\n${machine}; ${ROUNDS} rounds after ${WARM_UP} warm-up, request to answer over chat.v1 on 127.0.0.1.\n\n| page | median ms | IQR ms | p95 ms | max ms | frame bytes |\n| --- | --- | --- | --- | --- | --- |\n${table}\n`,
  )
} finally {
  await db.end()
  await app.close()
  await cleanup()
}
