// A user in 500 rooms asks for their room list with unread and mention counts (`rooms` over chat.v1,
// answered from one query): how long from asking to the answer, on a fresh PostgreSQL database with 500
// rooms of 200 messages each, every room with a different number unread, a tenth of the messages naming
// the reader and some saying @room. 3 rounds of 200 requests after a warm-up, each with its load average.
// Goal (issue 10): under 50 ms. Writes bench/results/room-list-<stamp>.json and .md.
// Run: `npm run room-list -w bench` (PostgreSQL at TEST_POSTGRES_URL, 127.0.0.1:5432 by default).
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { buildApp, loadConfig } from '@chat/server'
import { createTestDatabase, openSocket } from '@chat/server/testing'
import { percentile } from './scenarios.ts'

const ROOMS = 500
const MESSAGES_PER_ROOM = 200
const SAMPLES = 200
const ROUNDS = 3
const WARM_UP = 50
const GOAL_MS = 50

const database = await createTestDatabase()
const config = loadConfig({
  DATABASE_URL: database.url,
  LOG_LEVEL: 'warn',
  API_ADMIN_EMAIL: 'admin@example.com',
  API_ADMIN_PASSWORD: 'bench-admin-password',
  WS_MESSAGES_PER_SECOND: '1000',
})
const app = await buildApp(config)
try {
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const register = await app.inject({
    method: 'POST',
    url: '/api/v1.0/user/register',
    payload: { email: 'reader@example.com', password: 'a-good-password', display_name: 'Reader' },
  })
  const token = (register.json() as { data: { access_token: string } }).data.access_token
  const other = await app.inject({
    method: 'POST',
    url: '/api/v1.0/user/register',
    payload: { email: 'writer@example.com', password: 'a-good-password', display_name: 'Writer' },
  })
  if (register.statusCode !== 201 || other.statusCode !== 201) throw new Error('registration failed')

  // in bulk through SQL: the subject is reading the list, not writing it
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  await client.query(`
    with users as (
      select (select id from users where email = 'reader@example.com') as reader,
             (select id from users where email = 'writer@example.com') as writer
    ), made as (
      insert into rooms (name, title, kind, last_seq, created_by)
      select 'bench-' || g, 'Bench room ' || g, case when g % 2 = 0 then 'private' else 'public' end,
        ${MESSAGES_PER_ROOM}, (select writer from users)
      from generate_series(1, ${ROOMS}) g
      returning id, name
    ), members as (
      insert into room_members (room_id, user_id, role, last_read_seq)
      select id, (select reader from users), 'member', (substring(name from 7)::int * 7) % ${MESSAGES_PER_ROOM}
      from made
    )
    insert into messages (room_id, seq, user_id, client_id, body, mentions_room)
    select made.id, s, (select writer from users), made.name || '-' || s,
      case when s % 10 = 0 then '@Reader message ' || s else 'message ' || s end, s % 50 = 0
    from made, generate_series(1, ${MESSAGES_PER_ROOM}) s
  `)
  await client.query(`
    insert into message_mentions (room_id, seq, user_id)
    select m.room_id, m.seq, (select id from users where email = 'reader@example.com')
    from messages m join rooms r on r.id = m.room_id and r.name like 'bench-%'
    where m.body like '@Reader%'
  `)
  // what autovacuum does to a table at rest: statistics, and the visibility map index-only scans rely on
  await client.query('vacuum analyze')
  await client.end()

  const url = `${address.replace('http', 'ws')}/ws`
  const started = performance.now()
  const socket = await openSocket(url, ['chat.v1', `bearer.${token}`])
  const welcome = await socket.nextOfType<{ roomList: { unread?: number; mentions?: number }[] }>(
    'welcome',
    undefined,
    30_000,
  )
  const welcomeMs = performance.now() - started
  const unread = welcome.roomList.reduce((sum, room) => sum + (room.unread ?? 0), 0)
  if (welcome.roomList.length < ROOMS) throw new Error(`only ${welcome.roomList.length} rooms listed`)

  const mentions = welcome.roomList.reduce((sum, room) => sum + (room.mentions ?? 0), 0)
  const ask = async () => {
    const asked = performance.now()
    socket.socket.send('{"type":"rooms"}')
    await socket.nextOfType('rooms')
    return performance.now() - asked
  }
  for (let i = 0; i < WARM_UP; i++) await ask()
  const rounds: { medianMs: number; p95Ms: number; maxMs: number; loadBefore: number; loadAfter: number }[] =
    []
  for (let round = 0; round < ROUNDS; round++) {
    const loadBefore = loadavg()[0]!
    const timings: number[] = []
    for (let i = 0; i < SAMPLES; i++) timings.push(await ask())
    rounds.push({
      medianMs: percentile(timings, 0.5),
      p95Ms: percentile(timings, 0.95),
      maxMs: Math.max(...timings),
      loadBefore,
      loadAfter: loadavg()[0]!,
    })
  }
  socket.socket.terminate()
  const p95 = percentile(
    rounds.map((r) => r.p95Ms),
    0.5,
  )
  const summary =
    `room list of a user in ${ROOMS} rooms (${MESSAGES_PER_ROOM} messages each, ${unread} unread and ${mentions} ` +
    `mentions in all), ${ROUNDS} rounds of ${SAMPLES} 'rooms' round trips over chat.v1 on PostgreSQL after ` +
    `${WARM_UP} uncounted; welcome after ${welcomeMs.toFixed(0)} ms. p95 over the rounds: median ` +
    `${p95.toFixed(1)} ms (${Math.min(...rounds.map((r) => r.p95Ms)).toFixed(1)}–` +
    `${Math.max(...rounds.map((r) => r.p95Ms)).toFixed(1)}). Goal < ${GOAL_MS} ms: ${p95 < GOAL_MS ? 'met' : 'NOT met'}`
  const table = rounds
    .map(
      (r, n) =>
        `| ${n + 1} | ${r.medianMs.toFixed(1)} | ${r.p95Ms.toFixed(1)} | ${r.maxMs.toFixed(1)} | ${r.loadBefore.toFixed(2)} → ${r.loadAfter.toFixed(2)} |`,
    )
    .join('\n')
  console.log(summary)
  console.log(table)
  const stamp = new Date().toISOString().replace(/:/g, '-').slice(0, 19)
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`
  const results = path.join(import.meta.dirname, 'results')
  mkdirSync(results, { recursive: true })
  writeFileSync(
    path.join(results, `room-list-${stamp}.json`),
    JSON.stringify({ machine, rooms: ROOMS, unread, mentions, welcomeMs, rounds }, null, 2),
  )
  writeFileSync(
    path.join(results, `room-list-${stamp}.md`),
    `# Room list with unread and mention counts (PostgreSQL)\n\n${machine}. ${summary}.\n\n| round | median ms | p95 ms | max ms | load average before → after |\n| --- | --- | --- | --- | --- |\n${table}\n`,
  )
  if (p95 >= GOAL_MS) process.exitCode = 1
} finally {
  await app.close()
  await database.drop()
}
