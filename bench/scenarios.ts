// The load scenarios, shared by `npm run bench` (against servers it starts) and `npm run load` (against
// any deployment). Every loop is bounded by a deadline or a count; each scenario returns its figures.
import { WebSocket, type RawData } from 'ws'

export interface Target {
  /** the WebSocket endpoint, e.g. ws://127.0.0.1:8101/ws */
  wsUrl: string
  /** a session token: sent as `?token=` to the echo protocol, as `bearer.<token>` to chat.v1 */
  token: string
}

/** Called about once a second while a scenario runs, with a one-line summary so far. */
export type Progress = (line: string) => void

/** A short random tag: room names and client ids of one run never meet another run's. */
const runTag = () => Math.random().toString(36).slice(2, 8)

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
}

/** Counts events and their latencies from `start()`, and reports progress once a second. */
class Meter {
  readonly latencies: number[] = []
  private started = 0
  private timer: NodeJS.Timeout | undefined
  constructor(
    private readonly what: string,
    private readonly progress?: Progress,
  ) {}
  start(): void {
    this.started = performance.now()
    if (this.progress) this.timer = setInterval(() => this.progress!(this.line()), 1_000)
  }
  record(latencyMs: number): void {
    this.latencies.push(latencyMs)
  }
  stop(): void {
    clearInterval(this.timer)
  }
  elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000
  }
  private line(): string {
    const seconds = this.elapsedSeconds()
    const recent = this.latencies.slice(-2_000)
    return `${this.what}: ${seconds.toFixed(0)} s, ${this.latencies.length} done, ${(this.latencies.length / seconds).toFixed(0)}/s, p99 of the last ${recent.length} ${percentile(recent, 0.99).toFixed(1)} ms`
  }
}

export function connect(url: string, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { perMessageDeflate: false })
    socket.once('open', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Opens `count` sockets, 50 at a time. */
export async function connectMany(count: number, open: () => Promise<WebSocket>): Promise<WebSocket[]> {
  const sockets: WebSocket[] = []
  for (let i = 0; i < count; i += 50) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, open))))
  }
  return sockets
}

export const closeAll = (sockets: WebSocket[]) => sockets.forEach((socket) => socket.terminate())

const echoSocket = (target: Target) => connect(`${target.wsUrl}?token=${encodeURIComponent(target.token)}`)

/** The frame's `type`, read without parsing the JSON: every server frame starts `{"type":"<type>"`. */
const frameType = (data: RawData) => {
  const buffer = data as Buffer
  return buffer.toString('latin1', 9, buffer.indexOf(34, 9))
}

function nextFrame(socket: WebSocket, type: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('message', listener)
      reject(new Error(`no ${type} frame within ${timeoutMs} ms`))
    }, timeoutMs)
    const listener = (data: RawData) => {
      if (frameType(data) !== type) return
      clearTimeout(timer)
      socket.off('message', listener)
      resolve(JSON.parse(String(data)) as Record<string, unknown>)
    }
    socket.on('message', listener)
  })
}

/** A chat.v1 socket that has had its welcome (listened for before the upgrade completes: it may come with it). */
function chatSocket(target: Target): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(target.wsUrl, ['chat.v1', `bearer.${target.token}`], {
      perMessageDeflate: false,
    })
    const timer = setTimeout(() => reject(new Error('no welcome frame within 10 s')), 10_000)
    socket.on('message', function welcome(data) {
      if (frameType(data) !== 'welcome') return
      clearTimeout(timer)
      socket.off('message', welcome)
      resolve(socket)
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/** A chat.v1 socket that has joined `room` (and, when `create`, made it first). */
async function chatMember(target: Target, room: string, create = false): Promise<WebSocket> {
  const socket = await chatSocket(target)
  if (create) {
    const created = nextFrame(socket, 'room_created')
    socket.send(JSON.stringify({ type: 'create_room', room }))
    await created
  }
  const joined = nextFrame(socket, 'joined')
  socket.send(JSON.stringify({ type: 'join', room }))
  await joined
  return socket
}

export interface Throughput {
  perSecond: number
  p50: number
  p99: number
  count: number
}

const summary = (meter: Meter, seconds: number): Throughput => ({
  perSecond: meter.latencies.length / seconds,
  p50: percentile(meter.latencies, 0.5),
  p99: percentile(meter.latencies, 0.99),
  count: meter.latencies.length,
})

/**
 * Echo protocol: each connection sends, waits for the answer, sends again, for `seconds`. `connected` is
 * called once every socket is open, before the first message.
 */
export async function echo(
  target: Target,
  { connections, seconds }: { connections: number; seconds: number },
  progress?: Progress,
  connected?: () => void,
): Promise<Throughput> {
  const sockets = await connectMany(connections, () => echoSocket(target))
  connected?.()
  const meter = new Meter(`echo, ${connections} connections`, progress)
  meter.start()
  const deadline = performance.now() + seconds * 1000
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
            meter.record(performance.now() - sentAt)
            next()
          })
          next()
        }),
    ),
  )
  meter.stop()
  closeAll(sockets)
  return summary(meter, meter.elapsedSeconds())
}

/**
 * Stored messages per second: `rooms` new rooms, `sendersPerRoom` chat.v1 sockets in each, every sender
 * closed-loop with up to `window` sends awaiting their ack. Counts acks (an ack means stored), with the
 * time from send to ack. Every sender is a member of its room, so it also receives each message.
 */
export async function chatStore(
  target: Target,
  options: { rooms: number; sendersPerRoom: number; window: number; seconds: number },
  progress?: Progress,
): Promise<Throughput> {
  const { rooms, sendersPerRoom, window, seconds } = options
  const run = runTag()
  const roomNames = Array.from({ length: rooms }, (_, i) => `bench-${run}-${i}`)
  const senders: { socket: WebSocket; room: string }[] = []
  for (const room of roomNames) {
    senders.push({ socket: await chatMember(target, room, true), room })
    for (let i = 1; i < sendersPerRoom; i++) senders.push({ socket: await chatMember(target, room), room })
  }
  const meter = new Meter(
    `chat store, ${rooms} room(s) x ${sendersPerRoom} senders, window ${window}`,
    progress,
  )
  meter.start()
  const deadline = performance.now() + seconds * 1000
  let counted = 0
  await Promise.all(
    senders.map(
      ({ socket, room }, who) =>
        new Promise<void>((resolve, reject) => {
          const sentAt = new Map<string, number>()
          let n = 0
          const send = () => {
            const clientId = `${run}-${who}-${++n}`
            sentAt.set(clientId, performance.now())
            socket.send(JSON.stringify({ type: 'send', room, clientId, text: `bench message ${n}` }))
          }
          socket.on('message', (data) => {
            const type = frameType(data)
            if (type === 'error') return reject(new Error(`server error: ${String(data)}`))
            if (type !== 'ack') return
            const { clientId } = JSON.parse(String(data)) as { clientId: string }
            const now = performance.now()
            const started = sentAt.get(clientId)
            if (started === undefined) return
            sentAt.delete(clientId)
            if (now <= deadline) {
              meter.record(now - started)
              counted++
              send()
            }
            if (sentAt.size === 0) resolve()
          })
          for (let i = 0; i < window; i++) send()
        }),
    ),
  )
  meter.stop()
  closeAll(senders.map((sender) => sender.socket))
  return { ...summary(meter, seconds), count: counted }
}

export interface CrossProcess extends Throughput {
  /** messages stored (acked) */
  stored: number
}

/**
 * Delivered messages per second across processes: `rooms` rooms, each with one closed-loop sender
 * (`window` sends awaiting their ack) on one process and `receiversPerProcess` members on every process
 * (`targets`: one per process of one deployment), so most deliveries cross the bus. Counts the messages
 * the receivers get until the senders' last ack, with the time from send to receipt.
 */
export async function crossProcess(
  targets: Target[],
  options: { rooms: number; receiversPerProcess: number; window: number; seconds: number },
  progress?: Progress,
): Promise<CrossProcess> {
  const { rooms, receiversPerProcess, window, seconds } = options
  const run = runTag()
  const roomNames = Array.from({ length: rooms }, (_, i) => `bench-${run}-${i}`)
  const senders = await Promise.all(
    roomNames.map((room, i) => chatMember(targets[i % targets.length]!, room, true)),
  )
  const receivers = (
    await Promise.all(
      roomNames.flatMap((room) =>
        targets.flatMap((target) =>
          Array.from({ length: receiversPerProcess }, () => chatMember(target, room)),
        ),
      ),
    )
  ).flat()
  const meter = new Meter(`cross-process, ${rooms} rooms, ${targets.length} processes`, progress)
  for (const socket of receivers) {
    socket.on('message', (data) => {
      if (frameType(data) !== 'message') return
      const sentAt = Number((JSON.parse(String(data)) as { text: string }).text.split(' ')[1])
      meter.record(performance.timeOrigin + performance.now() - sentAt)
    })
  }
  meter.start()
  const deadline = performance.now() + seconds * 1000
  let stored = 0
  await Promise.all(
    senders.map(
      (socket, who) =>
        new Promise<void>((resolve, reject) => {
          const room = roomNames[who]!
          let [n, unacked] = [0, 0]
          const send = () => {
            unacked++
            const text = `bench ${performance.timeOrigin + performance.now()}`
            socket.send(JSON.stringify({ type: 'send', room, clientId: `${run}-${who}-${++n}`, text }))
          }
          socket.on('message', (data) => {
            const type = frameType(data)
            if (type === 'error') return reject(new Error(`server error: ${String(data)}`))
            if (type !== 'ack') return
            unacked--
            stored++
            if (performance.now() <= deadline) send()
            else if (unacked === 0) resolve()
          })
          for (let i = 0; i < window; i++) send()
        }),
    ),
  )
  const sending = meter.elapsedSeconds()
  // the last acked messages are on their way to the receivers
  await sleep(500)
  meter.stop()
  closeAll([...senders, ...receivers])
  return { ...summary(meter, sending), stored }
}

export interface FanOut {
  delivered: number
  expected: number
  p50: number
  p99: number
}

/**
 * One sender, `receivers` members of one room: time from send to arrival at each receiver, `messages`
 * sent `intervalMs` apart. `chat`: the target speaks chat.v1 (create and join a room); else it is a plain
 * broadcast server that sends every `send` to every socket.
 */
export async function fanOut(
  target: Target,
  {
    receivers,
    messages,
    intervalMs,
    chat,
  }: { receivers: number; messages: number; intervalMs: number; chat: boolean },
  progress?: Progress,
): Promise<FanOut> {
  const room = `bench-fan-${runTag()}`
  const member = async (create = false) =>
    chat ? chatMember(target, room, create) : connect(target.wsUrl, ['chat.v1', `bearer.${target.token}`])
  const sender = await member(true)
  const sockets = await connectMany(receivers, () => member())
  const meter = new Meter(`fan-out to ${receivers}`, progress)
  const expected = receivers * messages
  const done = new Promise<void>((resolve) => {
    for (const socket of sockets) {
      socket.on('message', (data) => {
        if (frameType(data) !== 'message') return
        const sentAt = Number((JSON.parse(String(data)) as { text: string }).text.split(' ')[1])
        meter.record(performance.timeOrigin + performance.now() - sentAt)
        if (meter.latencies.length === expected) resolve()
      })
    }
  })
  meter.start()
  for (let i = 0; i < messages; i++) {
    const text = `bench ${performance.timeOrigin + performance.now()}`
    sender.send(JSON.stringify({ type: 'send', room, clientId: `${room}-${i}`, text }))
    await sleep(intervalMs)
  }
  await Promise.race([done, sleep(30_000)])
  meter.stop()
  closeAll([...sockets, sender])
  return {
    delivered: meter.latencies.length,
    expected,
    p50: percentile(meter.latencies, 0.5),
    p99: percentile(meter.latencies, 0.99),
  }
}

/** Opens `count` idle echo sockets and keeps them open until `close()`; measures the connect rate. */
export async function idleSockets(
  target: Target,
  count: number,
): Promise<{ sockets: WebSocket[]; perSecond: number }> {
  const started = performance.now()
  const sockets = await connectMany(count, () => echoSocket(target))
  return { sockets, perSecond: count / ((performance.now() - started) / 1000) }
}
