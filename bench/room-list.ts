// A user in 500 rooms asks for their room list with unread counts (`rooms` over chat.v1, answered from one
// query): how long from asking to the answer, on a fresh PostgreSQL database with 500 rooms of 200
// messages each, every room with a different number unread. Goal (issue 10): under 50 ms.
// Run: `npm run room-list -w bench` (PostgreSQL at TEST_POSTGRES_URL, 127.0.0.1:5432 by default).
import pg from 'pg'
import { buildApp, loadConfig } from '@chat/server'
import { createTestDatabase, openSocket } from '@chat/server/testing'
import { percentile } from './scenarios.ts'

const ROOMS = 500
const MESSAGES_PER_ROOM = 200
const SAMPLES = 200

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
    insert into messages (room_id, seq, user_id, client_id, body)
    select made.id, s, (select writer from users), made.name || '-' || s, 'message ' || s
    from made, generate_series(1, ${MESSAGES_PER_ROOM}) s
  `)
  // what autovacuum does to a table at rest: statistics, and the visibility map index-only scans rely on
  await client.query('vacuum analyze')
  await client.end()

  const url = `${address.replace('http', 'ws')}/ws`
  const started = performance.now()
  const socket = await openSocket(url, ['chat.v1', `bearer.${token}`])
  const welcome = await socket.nextOfType<{ roomList: { unread?: number }[] }>('welcome', undefined, 30_000)
  const welcomeMs = performance.now() - started
  const unread = welcome.roomList.reduce((sum, room) => sum + (room.unread ?? 0), 0)
  if (welcome.roomList.length < ROOMS) throw new Error(`only ${welcome.roomList.length} rooms listed`)

  const timings: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    const asked = performance.now()
    socket.socket.send('{"type":"rooms"}')
    await socket.nextOfType('rooms')
    timings.push(performance.now() - asked)
  }
  socket.socket.terminate()
  const median = percentile(timings, 0.5)
  const p95 = percentile(timings, 0.95)
  console.log(
    `room list of a user in ${ROOMS} rooms (${MESSAGES_PER_ROOM} messages each, ${unread} unread in all), ` +
      `${SAMPLES} 'rooms' round trips over chat.v1 on PostgreSQL: median ${median.toFixed(1)} ms, ` +
      `p95 ${p95.toFixed(1)} ms, max ${Math.max(...timings).toFixed(1)} ms; welcome after ${welcomeMs.toFixed(0)} ms. ` +
      `Goal < 50 ms: ${p95 < 50 ? 'met' : 'NOT met'}`,
  )
  if (p95 >= 50) process.exitCode = 1
} finally {
  await app.close()
  await database.drop()
}
