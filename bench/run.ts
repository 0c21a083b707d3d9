// `npm run bench [-- scenario…]`: every scenario for our server and its baseline in interleaved rounds
// (warm-up for each, then A B A B…), medians and spread, and the CPU time each server process spent per
// message (from /proc/<pid>/stat; for chat runs also the PostgreSQL backends'). Servers run pinned to
// core 0, this load generator to core 1 (when taskset and two cores are there). Writes
// bench/results/<stamp>.json and .md; the console shows the same.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { productionLikeEnv } from '@chat/server/testing'
import { chatStore, closeAll, echo, fanOut, idleSockets, sleep, type Target } from './scenarios.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const here = import.meta.dirname
const pinned = availableParallelism() >= 2 && hasTaskset()
if (pinned) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' })

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())

/** User + system CPU time of a process so far, in ms; 0 for one that is gone. */
function cpuMs(pid: number): number {
  try {
    // fields after the command name (which may hold spaces): utime and stime are the 12th and 13th
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return 0
  }
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024
}

type AppSpec = { kind: 'app'; env: Record<string, string>; postgres?: boolean; label: string }
type ServerSpec = { kind: 'baseline' } | AppSpec

interface Server {
  child: ChildProcess
  pid: number
  target: Target
  /** the CPU time of this server's PostgreSQL backends so far (0 on embedded backends) */
  postgresCpuMs(): Promise<number>
  memory(): Promise<{ heapUsed: number; external: number; rss: number }>
  stop(): Promise<void>
}

const describeSpec = (spec: ServerSpec) => (spec.kind === 'baseline' ? 'plain ws' : spec.label)

async function startServer(spec: ServerSpec): Promise<Server> {
  const backends = spec.kind === 'app' && spec.postgres ? await productionLikeEnv() : undefined
  const env = spec.kind === 'app' ? { ...backends?.env, ...spec.env } : {}
  const node = [
    process.execPath,
    '--expose-gc',
    // BENCH_CPU_PROFILE=<dir>: each server writes a V8 CPU profile there when it stops (open it in Chrome's DevTools)
    ...(process.env.BENCH_CPU_PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`]
      : []),
    '--import',
    'tsx',
    path.join(here, 'bench-server.ts'),
    spec.kind,
    JSON.stringify(env),
  ]
  const [command, ...args] = pinned ? ['taskset', '-c', '0', ...node] : node
  const child = spawn(command!, args, { cwd: here, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const reply = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${describeSpec(spec)}: no ${type} in 60 s`)), 60_000)
      child.on('message', function listener(message: { type: string }) {
        if (message.type !== type) return
        clearTimeout(timer)
        child.off('message', listener)
        resolve(message as T)
      })
    })
  const ready = await reply<{ url: string; token: string }>('ready')
  const database = env.DATABASE_URL ? new URL(env.DATABASE_URL).pathname.slice(1) : undefined
  return {
    child,
    pid: child.pid!,
    target: { wsUrl: ready.url, token: ready.token },
    postgresCpuMs: async () => {
      if (!database) return 0
      const client = new pg.Client({ connectionString: env.DATABASE_URL })
      await client.connect()
      try {
        const { rows } = await client.query<{ pid: number }>(
          'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [database],
        )
        return rows.reduce((sum, row) => sum + cpuMs(row.pid), 0)
      } finally {
        await client.end()
      }
    },
    memory: () => {
      child.send({ type: 'memory' })
      return reply('memory')
    },
    stop: async () => {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
      await backends?.cleanup()
    },
  }
}

interface Figures {
  /** messages per second: echoed, stored (acked) or delivered */
  perSecond?: number
  p50: number
  p99: number
  count: number
  delivered?: number
  expected?: number
}

interface Scenario {
  name: string
  title: string
  ours: ServerSpec
  baseline: ServerSpec
  run(target: Target, kind: 'ours' | 'baseline'): Promise<Figures>
  goal: string
}

const EMBEDDED: AppSpec = { kind: 'app', env: {}, label: 'ours, embedded' }
const chatServer = (batch: number, label: string): AppSpec => ({
  kind: 'app',
  postgres: true,
  label,
  env: {
    LOG_LEVEL: 'warn',
    WS_MESSAGES_PER_SECOND: '1000000',
    WS_MAX_CONNECTIONS_PER_USER: '100000',
    CHAT_MAX_BATCH: String(batch),
  },
})
const GROUP_COMMIT = chatServer(256, 'ours, PostgreSQL + Redis, group commit')
const ONE_BY_ONE = chatServer(1, 'ours, PostgreSQL + Redis, CHAT_MAX_BATCH=1 (one statement per message)')
const PLAIN_WS: ServerSpec = { kind: 'baseline' }

const scenarios: Scenario[] = [
  ...[50, 500].map((connections): Scenario => ({
    name: `echo-${connections}`,
    title: `echo, ${connections} connections, closed loop`,
    ours: EMBEDDED,
    baseline: PLAIN_WS,
    run: (target) => echo(target, { connections, seconds: SECONDS }),
    goal: '>= 0.9x msg/s per CPU, p99 <= 1.5x',
  })),
  {
    name: 'chat-1-room',
    title: 'chat stored msg/s, 1 room, 10 senders, 16 unacked each',
    ours: GROUP_COMMIT,
    baseline: ONE_BY_ONE,
    run: (target) => chatStore(target, { rooms: 1, sendersPerRoom: 10, window: 16, seconds: SECONDS }),
    goal: '>= 5,000 msg/s, ack p99 <= 50 ms',
  },
  {
    name: 'chat-10-rooms',
    title: 'chat stored msg/s, 10 rooms, 4 senders each, 8 unacked each',
    ours: GROUP_COMMIT,
    baseline: ONE_BY_ONE,
    run: (target) => chatStore(target, { rooms: 10, sendersPerRoom: 4, window: 8, seconds: SECONDS }),
    goal: '>= 10,000 msg/s, ack p99 <= 50 ms',
  },
  {
    name: 'fanout-1000',
    title: 'chat fan-out, 1 sender, 1,000 receivers, 50 messages 20 ms apart',
    ours: GROUP_COMMIT,
    baseline: PLAIN_WS,
    run: async (target, kind) => {
      const result = await fanOut(target, {
        receivers: 1000,
        messages: 50,
        intervalMs: 20,
        chat: kind === 'ours',
      })
      return { ...result, count: result.delivered }
    },
    goal: 'p99 < 50 ms, all delivered',
  },
]

interface Sample extends Figures {
  scenario: string
  server: 'ours' | 'baseline'
  round: number
  seconds: number
  /** the server process's CPU time per message, ms */
  cpuMsPerMessage: number
  /** messages per second of server CPU time */
  perCpuSecond: number
  /** the PostgreSQL backends' CPU time per message, ms (chat on PostgreSQL only) */
  postgresCpuMsPerMessage?: number
}

async function measureRun(scenario: Scenario, server: Server, kind: 'ours' | 'baseline', round: number) {
  const [cpuBefore, postgresBefore] = [cpuMs(server.pid), await server.postgresCpuMs()]
  const started = performance.now()
  const figures = await scenario.run(server.target, kind)
  const seconds = (performance.now() - started) / 1000
  const cpu = cpuMs(server.pid) - cpuBefore
  const postgres = (await server.postgresCpuMs()) - postgresBefore
  const sample: Sample = {
    scenario: scenario.name,
    server: kind,
    round,
    seconds,
    ...figures,
    cpuMsPerMessage: cpu / figures.count,
    perCpuSecond: figures.count / (cpu / 1000),
    ...(postgres > 0 ? { postgresCpuMsPerMessage: postgres / figures.count } : {}),
  }
  return sample
}

/** Warm-up for each server, then `ROUNDS` rounds of A B. */
async function runScenario(scenario: Scenario): Promise<Sample[]> {
  const servers = { ours: await startServer(scenario.ours), baseline: await startServer(scenario.baseline) }
  const samples: Sample[] = []
  try {
    for (const kind of ['ours', 'baseline'] as const) await scenario.run(servers[kind].target, kind)
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of ['ours', 'baseline'] as const) {
        const sample = await measureRun(scenario, servers[kind], kind, round)
        samples.push(sample)
        console.log(`  ${scenario.name} round ${round} ${kind}: ${brief(sample)}`)
      }
    }
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()))
  }
  return samples
}

const fmt = (value: number | undefined, digits = 0) =>
  value === undefined || Number.isNaN(value)
    ? '-'
    : value.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits })

function brief(sample: Sample): string {
  const rate =
    sample.perSecond === undefined
      ? `${sample.delivered}/${sample.expected} delivered`
      : `${fmt(sample.perSecond)}/s`
  const postgres =
    sample.postgresCpuMsPerMessage === undefined
      ? ''
      : `, PostgreSQL ${fmt(sample.postgresCpuMsPerMessage, 3)} ms/msg`
  return `${rate}, p50 ${fmt(sample.p50, 2)} ms, p99 ${fmt(sample.p99, 2)} ms, server CPU ${fmt(sample.cpuMsPerMessage, 3)} ms/msg (${fmt(sample.perCpuSecond)} msg per CPU-s)${postgres}`
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

interface Stat {
  median: number
  min: number
  max: number
}
type Metric = 'perSecond' | 'p50' | 'p99' | 'cpuMsPerMessage' | 'perCpuSecond' | 'postgresCpuMsPerMessage'
const METRICS: { key: Metric; label: string; digits: number }[] = [
  { key: 'perSecond', label: 'msg/s', digits: 0 },
  { key: 'perCpuSecond', label: 'msg per server CPU-second', digits: 0 },
  { key: 'cpuMsPerMessage', label: 'server CPU ms/msg', digits: 3 },
  { key: 'postgresCpuMsPerMessage', label: 'PostgreSQL CPU ms/msg', digits: 3 },
  { key: 'p50', label: 'p50 ms', digits: 2 },
  { key: 'p99', label: 'p99 ms', digits: 2 },
]

function stats(samples: Sample[], key: Metric): Stat | undefined {
  const values = samples.map((sample) => sample[key]).filter((value): value is number => value !== undefined)
  if (values.length === 0) return undefined
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) }
}

const spread = (stat: Stat | undefined, digits: number) =>
  stat ? `${fmt(stat.median, digits)} (${fmt(stat.min, digits)}–${fmt(stat.max, digits)})` : '-'

function table(scenario: Scenario, samples: Sample[]): string[] {
  const of = (kind: 'ours' | 'baseline') => samples.filter((sample) => sample.server === kind)
  const lines = [
    `### ${scenario.title}`,
    '',
    `ours: ${describeSpec(scenario.ours)}; baseline: ${describeSpec(scenario.baseline)}; goal: ${scenario.goal}`,
    '',
    '| metric | ours, median (min–max) | baseline, median (min–max) | ratio of medians |',
    '| --- | --- | --- | --- |',
  ]
  for (const { key, label, digits } of METRICS) {
    const [ours, baseline] = [stats(of('ours'), key), stats(of('baseline'), key)]
    if (!ours && !baseline) continue
    const ratio = ours && baseline ? `${fmt(ours.median / baseline.median, 2)}x` : '-'
    lines.push(`| ${label} | ${spread(ours, digits)} | ${spread(baseline, digits)} | ${ratio} |`)
  }
  const delivered = of('ours').map((sample) => sample.delivered)
  if (delivered.every((value) => value !== undefined))
    lines.push(
      '',
      `delivered (ours): ${of('ours')
        .map((s) => `${s.delivered}/${s.expected}`)
        .join(', ')}`,
    )
  return [...lines, '']
}

/** The compiled server (server/dist/bin/main.js, built first) as production runs it; RSS once at rest. */
async function restingRss(env: Record<string, string>): Promise<number> {
  const child = spawn(process.execPath, [path.join(here, '../server/dist/bin/main.js')], {
    // production, as deployed: JSON logs written by the process itself (no pretty-printing worker)
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      API_MODE: 'production',
      API_ADMIN_EMAIL: 'admin@example.com',
      API_ADMIN_PASSWORD: 'bench-admin-password',
      ...env,
      // the `ready` line is logged at info
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  try {
    for (let waited = 0; !output.includes('ready: '); waited += 100) {
      if (waited > 60_000 || child.exitCode !== null)
        throw new Error(`the built server did not start (exit ${child.exitCode}, ${waited} ms):\n${output}`)
      await sleep(100)
    }
    await sleep(5_000)
    return rssMiB(child.pid!)
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
  }
}

/** RSS of the built server at rest, each role, and heap + RSS per idle echo socket against plain ws. */
async function memory(): Promise<{ lines: string[]; json: Record<string, unknown> }> {
  execFileSync('npm', ['run', 'build', '-w', 'server'], { cwd: path.join(here, '..'), stdio: 'ignore' })
  const lines = [
    '### memory',
    '',
    '| process (built: node dist/bin/main.js) | RSS at rest, MiB | goal |',
    '| --- | --- | --- |',
  ]
  const json: Record<string, unknown> = {}
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-pglite-'))
  const backends = await productionLikeEnv()
  try {
    const cases: [string, Record<string, string>, string][] = [
      ['embedded (PGlite), first start: creates the database', { PGLITE_DATA_DIR: dataDir }, '<= 300'],
      ['embedded (PGlite), later starts', { PGLITE_DATA_DIR: dataDir }, '<= 300'],
      ['PostgreSQL + Redis, APP_ROLE=api', { ...backends.env, APP_ROLE: 'api' }, '<= 120'],
      ['PostgreSQL + Redis, APP_ROLE=ws', { ...backends.env, APP_ROLE: 'ws' }, '<= 120'],
      ['PostgreSQL + Redis, APP_ROLE=all', { ...backends.env, APP_ROLE: 'all' }, '-'],
    ]
    for (const [label, env, goal] of cases) {
      const rss = await restingRss(env)
      json[`rssAtRest: ${label}`] = rss
      lines.push(`| ${label} | ${fmt(rss, 1)} | ${goal} |`)
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
    await backends.cleanup()
  }
  lines.push(
    '',
    '| idle echo sockets (2,000) | heap+external per socket, KiB | RSS per socket, KiB | upgrades/s |',
    '| --- | --- | --- | --- |',
  )
  for (const spec of [EMBEDDED, PLAIN_WS]) {
    const server = await startServer(spec)
    try {
      const count = 2000
      // warm up first, so start-up garbage and lazily built code are not counted against the sockets
      closeAll((await idleSockets(server.target, 100)).sockets)
      await sleep(1_000)
      const before = await server.memory()
      const open = await idleSockets(server.target, count)
      await sleep(1_000)
      const after = await server.memory()
      closeAll(open.sockets)
      const heap = (after.heapUsed + after.external - before.heapUsed - before.external) / count / 1024
      const rssPer = (after.rss - before.rss) / count / 1024
      json[`perSocket: ${describeSpec(spec)}`] = {
        heapKiB: heap,
        rssKiB: rssPer,
        connectPerSecond: open.perSecond,
      }
      lines.push(`| ${describeSpec(spec)} | ${fmt(heap, 2)} | ${fmt(rssPer, 2)} | ${fmt(open.perSecond)} |`)
    } finally {
      await server.stop()
    }
  }
  return { lines: [...lines, ''], json }
}

/**
 * Many idle authenticated sockets on one process: the connect rate (upgrades/s), then `IDLE_SECONDS` at
 * rest with the default heartbeat (ping every 30 s) and session check (every 5 s) running, measuring the
 * server's CPU, and how many sockets are still open (a socket not answering pings is dropped).
 */
async function manySockets(count: number): Promise<{ lines: string[]; json: Record<string, unknown> }> {
  const IDLE_SECONDS = 60
  const server = await startServer(EMBEDDED)
  try {
    const open = await idleSockets(server.target, count)
    await sleep(2_000)
    const cpuBefore = cpuMs(server.pid)
    await sleep(IDLE_SECONDS * 1000)
    const share = (cpuMs(server.pid) - cpuBefore) / (IDLE_SECONDS * 1000)
    const stillOpen = open.sockets.filter((socket) => socket.readyState === socket.OPEN).length
    const rss = rssMiB(server.pid)
    closeAll(open.sockets)
    const json = { count, connectPerSecond: open.perSecond, restingCpuShare: share, stillOpen, rssMiB: rss }
    const lines = [
      `### ${fmt(count)} idle sockets on one process (${describeSpec(EMBEDDED)})`,
      '',
      '| upgrades/s | CPU at rest (heartbeat, session checks), share of a core | still open after ' +
        `${IDLE_SECONDS} s | RSS MiB |`,
      '| --- | --- | --- | --- |',
      `| ${fmt(open.perSecond)} | ${fmt(share * 100, 2)}% | ${fmt(stillOpen)} | ${fmt(rss, 1)} |`,
      '',
    ]
    return { lines, json }
  } finally {
    await server.stop()
  }
}

const chosen = process.argv.slice(2)
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}`
const header = [
  `# bench ${new Date().toISOString()}`,
  '',
  `${machine}; ${SECONDS} s per run, ${ROUNDS} rounds each after a warm-up, interleaved ours/baseline; server ${pinned ? 'pinned to core 0, load on core 1' : 'not pinned'}. The machine is shared: see the spread.`,
  '',
]
console.log(header.join('\n'))
const report = [...header]
const allSamples: Sample[] = []
for (const scenario of scenarios) {
  if (chosen.length > 0 && !chosen.includes(scenario.name)) continue
  console.log(`${scenario.title}: ${describeSpec(scenario.ours)} vs ${describeSpec(scenario.baseline)}`)
  const samples = await runScenario(scenario)
  allSamples.push(...samples)
  const lines = table(scenario, samples)
  console.log(lines.join('\n'))
  report.push(...lines)
}
let memoryJson: Record<string, unknown> | undefined
if (chosen.length === 0 || chosen.includes('memory')) {
  const result = await memory()
  console.log(result.lines.join('\n'))
  report.push(...result.lines)
  memoryJson = result.json
}
let searchJson: Record<string, unknown> | undefined
if (chosen.length === 0 || chosen.includes('search')) {
  const result = await (await import('./search-latency.ts')).benchSearch()
  console.log(result.lines.join('\n'))
  report.push(...result.lines)
  searchJson = result.json
}
let socketsJson: Record<string, unknown> | undefined
// not part of the default run: it takes a minute and 15,000 file descriptors on each side
if (chosen.includes('sockets')) {
  const result = await manySockets(Number(process.env.BENCH_SOCKETS ?? 15_000))
  console.log(result.lines.join('\n'))
  report.push(...result.lines)
  socketsJson = result.json
}
// the SPA's message list in a browser (its own output; see spa-message-list.ts)
if (chosen.length === 0 || chosen.includes('spa'))
  await (await import('./spa-message-list.ts')).benchMessageList()
const results = path.join(here, 'results')
mkdirSync(results, { recursive: true })
writeFileSync(
  path.join(results, `${stamp}.json`),
  JSON.stringify(
    {
      machine,
      seconds: SECONDS,
      rounds: ROUNDS,
      pinned,
      samples: allSamples,
      memory: memoryJson,
      search: searchJson,
      sockets: socketsJson,
    },
    null,
    2,
  ),
)
writeFileSync(path.join(results, `${stamp}.md`), report.join('\n'))
console.log(`written: bench/results/${stamp}.json, .md`)
