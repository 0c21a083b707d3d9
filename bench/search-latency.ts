// `npm run bench -- search`: full-text search on PostgreSQL with 1,000,000 messages (BENCH_SEARCH_MESSAGES)
// in 1,000 rooms, written by 2,000 users. Words are drawn from a 3,000-word vocabulary with a Zipf-like
// (log-uniform) law, as people's words are: a few in most messages, most rare. Each searcher is a member of
// #general (the busiest room) and about 30 others, busy and quiet ones. Several hundred searches of varied
// terms (common and rare words, two words, word beginnings, with a room or date filter) go through the
// real route (`app.inject`: session, checks, SQL, snippets; no network), measured one at a time after a
// warm-up, in 3 rounds (BENCH_SEARCH_ROUNDS) each reported with its load average and the API's CPU per
// search, so a noisy minute shows as one round apart. The database is dropped afterwards.
import { loadavg } from 'node:os'
import { buildApp, loadConfig } from '@chat/server'
import { createTestDatabase } from '@chat/server/testing'
import pg from 'pg'
import { percentile } from './scenarios.ts'

const MESSAGES = Number(process.env.BENCH_SEARCH_MESSAGES ?? 1_000_000)
const QUERIES = Number(process.env.BENCH_SEARCH_QUERIES ?? 400)
/** rounds of QUERIES searches on the same data, each a fresh draw: one round proves nothing on a shared machine */
const ROUNDS = Number(process.env.BENCH_SEARCH_ROUNDS ?? 3)
const ROOMS = 1_000
const USERS = 2_000
const WARM_UP = 50
/** searchers enough that none passes the per-user limit (60 a minute) however fast the searches run */
const SEARCHERS = Math.ceil((QUERIES * ROUNDS + WARM_UP) / 50)
const GOAL_P95_MS = 100

/** Words people write in a team chat, most frequent first; a made-up tail follows them. */
const COMMON = `the to i a and you it is that of in we for on this be have with not do can just so but
  at are was will me my what if get about all ok yes no think know like one from up now there out time
  today deploy build test fix issue bug release meeting review merge branch server client database query
  thanks please check update later tomorrow morning lunch sure sounds good great done working looks change
  code error log config api user users team project plan week call doc link file data cache login page`
  .split(/\s+/)
  .filter(Boolean)
const SYLLABLES = `ka lo mi ne su ta ri po ve da fe gu ho ja ki lu ma no pe qu ra se ti vo wa xe yo za
  bri cla dro fle gra kri plo sta tre vin mar sol ter ban cor dil fen gal`
  .split(/\s+/)
  .filter(Boolean)

/** 3,000 words: the common ones, then two- and three-syllable made-up ones, all distinct. */
function vocabulary(): string[] {
  const words = new Set(COMMON)
  for (let n = 0; words.size < 3_000; n++) {
    const s = SYLLABLES.length
    const word =
      SYLLABLES[n % s]! +
      SYLLABLES[Math.floor(n / s) % s]! +
      (n >= s * s ? SYLLABLES[Math.floor(n / s / s) % s]! : '')
    words.add(word)
  }
  return [...words]
}

/** a word of rank 1..n drawn log-uniformly, as the generator draws them: common ones searched most */
const zipfIndex = (n: number) => Math.min(n - 1, Math.floor(Math.exp(Math.random() * Math.log(n + 1))) - 1)

async function fill(url: string, words: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const started = performance.now()
  try {
    await client.query(`set maintenance_work_mem = '256MB'`)
    await client.query(
      `insert into users (email, password, display_name, confirmed)
       select 'bench-' || n || '@example.com', 'not-a-hash', 'User ' || n, true from generate_series(1, $1) n`,
      [USERS],
    )
    await client.query(
      `insert into rooms (name, title, kind)
       select 'room-' || n, 'Room ' || n, case when n % 4 = 0 then 'private' else 'public' end
       from generate_series(2, $1) n`,
      [ROOMS],
    )
    // the search index is built once, after the rows, as a restore would (faster than row by row)
    await client.query('drop index messages_search_idx')
    // rooms: the lower the id, the busier (#general, id 1, gets about 3%); a message is 3 to 22 words,
    // log-uniformly drawn; about 2 years of history, one message a minute
    await client.query(
      `with firsts as (select min(id) as first_user from users where email like 'bench-%'),
       drawn as (
         select n, 1 + floor($2 * random() ^ 2)::bigint as room_id,
           (select first_user from firsts) + floor(random() * $3)::bigint as user_id,
           array_to_string(array(
             select ($4::text[])[least($5, floor(exp(random() * ln($5 + 1)))::int)]
             from generate_series(1, 3 + (n % 20))
           ), ' ') as body
         from generate_series(1, $1) n
       )
       insert into messages (room_id, seq, user_id, client_id, body, created_on)
       select room_id, row_number() over (partition by room_id order by n), user_id, 'bench-' || n, body,
         now() - ($1 - n) * interval '1 minute'
       from drawn`,
      [MESSAGES, ROOMS, USERS, words, words.length],
    )
    await client.query(
      `update rooms r set last_seq = s.last from (select room_id, max(seq) as last from messages group by room_id) s
       where s.room_id = r.id`,
    )
    await client.query('create index messages_search_idx on messages using gin (search)')
    // every user in #general and about 30 other rooms; the searchers are the first users
    await client.query(
      `insert into room_members (room_id, user_id)
       select r.id, u.id from users u join rooms r on r.id = 1 or (r.id * 7 + u.id) % 33 = 0
       where u.email like 'bench-%'
       on conflict do nothing`,
    )
    await client.query('vacuum analyze')
  } finally {
    await client.end()
  }
  return (performance.now() - started) / 1000
}

type Kind =
  'common word' | 'rare word' | 'two words' | 'word beginning' | 'word in a room' | 'word, last 30 days'
const KINDS: Kind[] = [
  'common word',
  'rare word',
  'two words',
  'word beginning',
  'word in a room',
  'word, last 30 days',
]

/** The searches, in turn of kind; `inRoom`: one of the searcher's rooms goes with it. */
interface PlannedSearch {
  kind: Kind
  query: Record<string, string>
  inRoom?: boolean
}

function plan(words: string[], count: number): PlannedSearch[] {
  const word = () => words[zipfIndex(words.length)]!
  const month = new Date(Date.now() - 30 * 86_400_000).toISOString()
  return Array.from({ length: count }, (_, n): PlannedSearch => {
    const kind = KINDS[n % KINDS.length]!
    switch (kind) {
      case 'common word':
        return { kind, query: { q: words[n % 20]! } }
      case 'rare word':
        return { kind, query: { q: words[words.length - 1 - (n % 1_000)]! } }
      case 'two words':
        return { kind, query: { q: `${word()} ${word()}` } }
      case 'word beginning':
        return { kind, query: { q: word().slice(0, 4) } }
      case 'word in a room':
        return { kind, query: { q: word() }, inRoom: true }
      case 'word, last 30 days':
        return { kind, query: { q: word(), from: month } }
    }
  })
}

const fmt = (value: number, digits = 1) =>
  value.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits })

export async function benchSearch(): Promise<{ lines: string[]; json: Record<string, unknown> }> {
  const database = await createTestDatabase()
  try {
    const config = loadConfig({
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      API_MODE: 'dev',
      REGISTER_MAX_PER_ADDRESS: '1000',
    })
    const app = await buildApp(config)
    try {
      await app.ready()
      const words = vocabulary()
      console.log(`  search: writing ${fmt(MESSAGES, 0)} messages…`)
      const fillSeconds = await fill(database.url, words)
      console.log(`  search: written and indexed in ${fmt(fillSeconds)} s`)
      // searchers log in with a password of their own (the generated users have none that works)
      const searchers: { token: string; rooms: string[] }[] = []
      for (let n = 0; n < SEARCHERS; n++) {
        const email = `searcher-${n}@example.com`
        const password = 'bench-searcher-password'
        const registered = await app.inject({
          method: 'POST',
          url: '/api/v1.0/user/register',
          payload: { email, password, display_name: `Searcher ${n}` },
        })
        const token = registered.json().data.access_token as string
        const me = (
          await app.inject({
            method: 'GET',
            url: '/api/v1.0/user/me',
            headers: { authorization: `Bearer ${token}` },
          })
        ).json()
        const client = new pg.Client({ connectionString: database.url })
        await client.connect()
        try {
          const { rows } = await client.query<{ name: string }>(
            `insert into room_members (room_id, user_id)
             select r.id, $1 from rooms r where r.id = 1 or (r.id * 7 + $2) % 33 = 0
             returning (select name from rooms where id = room_id)`,
            [me.data.id, n],
          )
          searchers.push({ token, rooms: rows.map((row) => row.name) })
        } finally {
          await client.end()
        }
      }
      let made = 0
      /** one search through the route, as the searcher whose turn it is; its time in ms */
      const searchOnce = async ({ query, inRoom }: PlannedSearch): Promise<number> => {
        const n = made++
        const searcher = searchers[n % SEARCHERS]!
        const room: Record<string, string> = inRoom
          ? { room: searcher.rooms[n % searcher.rooms.length]! }
          : {}
        const url = `/api/v1.0/search?${new URLSearchParams({ ...query, ...room }).toString()}`
        const started = performance.now()
        const response = await app.inject({
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${searcher.token}` },
        })
        const ms = performance.now() - started
        if (response.statusCode !== 200)
          throw new Error(`search ${url}: ${response.statusCode} ${response.body}`)
        return ms
      }
      for (const search of plan(words, WARM_UP)) await searchOnce(search)
      const timings: { kind: Kind; ms: number }[] = []
      const rounds: {
        p50: number
        p95: number
        p99: number
        cpuMsPerSearch: number
        loadBefore: number
        loadAfter: number
      }[] = []
      for (let round = 0; round < ROUNDS; round++) {
        const loadBefore = loadavg()[0]!
        const cpuBefore = process.cpuUsage()
        const times: number[] = []
        for (const search of plan(words, QUERIES)) {
          const ms = await searchOnce(search)
          times.push(ms)
          timings.push({ kind: search.kind, ms })
        }
        const cpu = process.cpuUsage(cpuBefore)
        const sorted = times.sort((a, b) => a - b)
        rounds.push({
          p50: percentile(sorted, 0.5),
          p95: percentile(sorted, 0.95),
          p99: percentile(sorted, 0.99),
          cpuMsPerSearch: (cpu.user + cpu.system) / 1000 / QUERIES,
          loadBefore,
          loadAfter: loadavg()[0]!,
        })
      }
      const summary = (label: string, values: number[]) => {
        const sorted = [...values].sort((a, b) => a - b)
        return {
          label,
          count: sorted.length,
          p50: percentile(sorted, 0.5),
          p95: percentile(sorted, 0.95),
          p99: percentile(sorted, 0.99),
          max: sorted.at(-1)!,
        }
      }
      const rows = [
        summary(
          'all searches',
          timings.map((t) => t.ms),
        ),
        ...[...new Set(timings.map((t) => t.kind))].map((kind) =>
          summary(
            kind,
            timings.filter((t) => t.kind === kind).map((t) => t.ms),
          ),
        ),
      ]
      const lines = [
        `### search latency, ${fmt(MESSAGES, 0)} messages on PostgreSQL (GET /api/v1.0/search through app.inject)`,
        '',
        `${fmt(ROOMS, 0)} rooms, ${fmt(USERS, 0)} writers, a 3,000-word vocabulary drawn log-uniformly; each of ${SEARCHERS} searchers is a member of ${searchers[0]!.rooms.length} rooms; ${ROUNDS} rounds of ${QUERIES} searches after ${WARM_UP} uncounted; filling and indexing took ${fmt(fillSeconds)} s. Goal: p95 < ${GOAL_P95_MS} ms.`,
        '',
        `p95 over the rounds: median ${fmt(
          percentile(
            rounds.map((r) => r.p95),
            0.5,
          ),
        )} ms, spread ${fmt(Math.min(...rounds.map((r) => r.p95)))}–${fmt(Math.max(...rounds.map((r) => r.p95)))} ms. Node CPU is the API process's own (PostgreSQL's is not in it).`,
        '',
        '| round | p50 ms | p95 ms | p99 ms | API CPU ms per search | load average before → after |',
        '| --- | --- | --- | --- | --- | --- |',
        ...rounds.map(
          (r, n) =>
            `| ${n + 1} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.cpuMsPerSearch, 2)} | ${fmt(r.loadBefore, 2)} → ${fmt(r.loadAfter, 2)} |`,
        ),
        '',
        'All rounds together, by kind of search:',
        '',
        '| searches | count | p50 ms | p95 ms | p99 ms | max ms |',
        '| --- | --- | --- | --- | --- | --- |',
        ...rows.map(
          (row) =>
            `| ${row.label} | ${row.count} | ${fmt(row.p50)} | ${fmt(row.p95)} | ${fmt(row.p99)} | ${fmt(row.max)} |`,
        ),
        '',
      ]
      return { lines, json: { messages: MESSAGES, fillSeconds, rounds, latency: rows } }
    } finally {
      await app.close()
    }
  } finally {
    await database.drop()
  }
}
