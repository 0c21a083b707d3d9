// `npm run bench`: echo throughput and latency, chat fan-out latency and idle memory per connection, each
// for our server and for a plain `ws` baseline started the same way in the same run. The server runs
// pinned to core 0, this load generator to core 1 (when taskset and two cores are there).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { WebSocket } from 'ws'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
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

type Kind = 'app' | 'baseline'
interface Server {
  child: ChildProcess
  url: string
  token: string
  memory(): Promise<{ heapUsed: number; external: number }>
  stop(): Promise<void>
}

async function startServer(kind: Kind): Promise<Server> {
  const node = [process.execPath, '--expose-gc', '--import', 'tsx', path.join(here, 'bench-server.ts'), kind]
  const [command, ...args] = pinned ? ['taskset', '-c', '0', ...node] : node
  const child = spawn(command!, args, { cwd: here, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const reply = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} server: no ${type} in 60 s`)), 60_000)
      child.on('message', function listener(message: { type: string }) {
        if (message.type !== type) return
        clearTimeout(timer)
        child.off('message', listener)
        resolve(message as T)
      })
    })
  const ready = await reply<{ url: string; token: string }>('ready')
  return {
    child,
    ...ready,
    memory: () => {
      child.send({ type: 'memory' })
      return reply('memory')
    },
    stop: async () => {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    },
  }
}

function connect(url: string, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { perMessageDeflate: false })
    socket.once('open', () => resolve(socket))
    socket.once('error', reject)
  })
}

async function connectMany(count: number, open: () => Promise<WebSocket>): Promise<WebSocket[]> {
  const sockets: WebSocket[] = []
  for (let i = 0; i < count; i += 50) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, open))))
  }
  return sockets
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
const closeAll = (sockets: WebSocket[]) => sockets.forEach((socket) => socket.terminate())

/** Each connection sends, waits for the answer, sends again, for SECONDS. */
async function echo(server: Server, connections: number) {
  const sockets = await connectMany(connections, () => connect(`${server.url}?token=${server.token}`))
  const latencies: number[] = []
  const deadline = performance.now() + SECONDS * 1000
  await Promise.all(
    sockets.map(
      (socket, index) =>
        new Promise<void>((resolve) => {
          let sentAt = 0
          const next = () => {
            if (performance.now() >= deadline) return resolve()
            sentAt = performance.now()
            socket.send(`message ${index}`)
          }
          socket.on('message', () => {
            latencies.push(performance.now() - sentAt)
            next()
          })
          next()
        }),
    ),
  )
  closeAll(sockets)
  latencies.sort((a, b) => a - b)
  return {
    perSecond: latencies.length / SECONDS,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  }
}

/** One sender, `receivers` in the room: time from send to arrival at each receiver. */
async function fanOut(server: Server, kind: Kind, receivers: number, messages: number) {
  const protocols = ['chat.v1', `bearer.${server.token}`]
  const joinGeneral = async () => {
    const socket = await connect(server.url, protocols)
    if (kind === 'app') {
      await new Promise<void>((resolve) => {
        socket.on('message', function joined(data) {
          if (!String(data).startsWith('{"type":"joined"')) return
          socket.off('message', joined)
          resolve()
        })
        socket.send(JSON.stringify({ type: 'join', room: 'general' }))
      })
    }
    return socket
  }
  const sockets = await connectMany(receivers, joinGeneral)
  const sender = await joinGeneral()
  const latencies: number[] = []
  const expected = receivers * messages
  const done = new Promise<void>((resolve) => {
    for (const socket of sockets) {
      socket.on('message', (data) => {
        const frame = String(data)
        if (!frame.startsWith('{"type":"message"')) return
        const sentAt = Number((JSON.parse(frame) as { text: string }).text.split(' ')[1])
        latencies.push(performance.timeOrigin + performance.now() - sentAt)
        if (latencies.length === expected) resolve()
      })
    }
  })
  for (let i = 0; i < messages; i++) {
    const text = `bench ${performance.timeOrigin + performance.now()}`
    sender.send(
      JSON.stringify({ type: 'send', room: 'general', clientId: `bench-${kind}-${Date.now()}-${i}`, text }),
    )
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 30_000))])
  closeAll([...sockets, sender])
  latencies.sort((a, b) => a - b)
  return {
    delivered: latencies.length,
    expected,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  }
}

/** Memory the server holds for `count` idle echo connections, after a full GC, per connection. */
async function idleMemory(server: Server, count: number) {
  // warm up first, so start-up garbage and lazily built code are not counted against the connections
  closeAll(await connectMany(100, () => connect(`${server.url}?token=${server.token}`)))
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const before = await server.memory()
  const sockets = await connectMany(count, () => connect(`${server.url}?token=${server.token}`))
  await new Promise((resolve) => setTimeout(resolve, 500))
  const after = await server.memory()
  closeAll(sockets)
  const heap = after.heapUsed + after.external - before.heapUsed - before.external
  // RSS is left out: the allocator keeps freed pages, so its change says little at this scale
  return { heapPerConnection: heap / count }
}

const fmt = (value: number, digits = 1) => value.toFixed(digits)
const ratio = (ours: number, base: number) => `${fmt(ours / base, 2)}x`

async function measure<T>(run: (server: Server, kind: Kind) => Promise<T>): Promise<Record<Kind, T>> {
  const results = {} as Record<Kind, T>
  for (const kind of ['baseline', 'app'] as const) {
    const server = await startServer(kind)
    try {
      results[kind] = await run(server, kind)
    } finally {
      await server.stop()
    }
  }
  return results
}

const only = process.argv[2] // echo | fanout | memory | spa: run one part
console.log(
  `bench: ${SECONDS} s per echo run; server ${pinned ? 'pinned to core 0, load on core 1' : 'not pinned'}`,
)
for (const connections of only && only !== 'echo' ? [] : [50, 500]) {
  const { app, baseline } = await measure((server) => echo(server, connections))
  console.log(
    `echo, ${connections} connections: ${fmt(app.perSecond, 0)} msg/s (baseline ${fmt(baseline.perSecond, 0)}, ${ratio(app.perSecond, baseline.perSecond)}); ` +
      `p50 ${fmt(app.p50, 2)} ms (baseline ${fmt(baseline.p50, 2)}); p99 ${fmt(app.p99, 2)} ms (baseline ${fmt(baseline.p99, 2)}, ${ratio(app.p99, baseline.p99)})`,
  )
}
if (!only || only === 'fanout') {
  const { app, baseline } = await measure((server, kind) => fanOut(server, kind, 1000, 50))
  console.log(
    `chat fan-out, 1 sender, 1000 receivers, 50 messages: delivered ${app.delivered}/${app.expected}; ` +
      `p50 ${fmt(app.p50, 2)} ms (baseline ${fmt(baseline.p50, 2)}); p99 ${fmt(app.p99, 2)} ms (baseline ${fmt(baseline.p99, 2)}, ${ratio(app.p99, baseline.p99)})`,
  )
}
if (!only || only === 'memory') {
  const { app, baseline } = await measure((server) => idleMemory(server, 1000))
  console.log(
    `idle memory per connection (1000 open): heap+external ${fmt(app.heapPerConnection / 1024, 2)} KiB (baseline ${fmt(baseline.heapPerConnection / 1024, 2)}, ${ratio(app.heapPerConnection, baseline.heapPerConnection)})`,
  )
}
if (!only || only === 'spa') await (await import('./spa-message-list.ts')).benchMessageList()
