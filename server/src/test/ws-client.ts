import { WebSocket, type ClientOptions } from 'ws'

export interface TestSocket {
  socket: WebSocket
  /** every text frame received so far, in order */
  received: string[]
  /** resolves with the first received frame (past or future) for which `match` is true */
  next(match: (frame: string) => boolean, timeoutMs?: number): Promise<string>
  /** the first JSON frame of that `type` (and matching `where`), parsed */
  nextOfType<T = Record<string, unknown>>(
    type: string,
    where?: (message: T) => boolean,
    timeoutMs?: number,
  ): Promise<T>
  closed: Promise<{ code: number; reason: string }>
}

/** Opens a WebSocket and records what arrives; rejects with `HTTP <status>` when the upgrade is refused. */
export function openSocket(
  url: string,
  protocols?: string[],
  options: ClientOptions = {},
): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, options)
    const received: string[] = []
    const waiters: { match: (frame: string) => boolean; resolve: (frame: string) => void }[] = []
    const consumed = new Set<number>()
    socket.on('message', (data, isBinary) => {
      if (isBinary) return
      const frame = data.toString()
      received.push(frame)
      for (const waiter of [...waiters]) {
        if (waiter.match(frame)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(frame)
        }
      }
    })
    const closed = new Promise<{ code: number; reason: string }>((done) =>
      socket.on('close', (code, reason) => done({ code, reason: reason.toString() })),
    )
    const next = (match: (frame: string) => boolean, timeoutMs = 5_000) =>
      new Promise<string>((done, fail) => {
        const index = received.findIndex((frame, i) => !consumed.has(i) && match(frame))
        if (index !== -1) {
          consumed.add(index)
          return done(received[index]!)
        }
        const timer = setTimeout(
          () => fail(new Error(`no matching frame within ${timeoutMs} ms; got ${received.join(' | ')}`)),
          timeoutMs,
        )
        waiters.push({
          match,
          resolve: (frame) => {
            clearTimeout(timer)
            consumed.add(received.lastIndexOf(frame))
            done(frame)
          },
        })
      })
    const nextOfType = async <T>(
      type: string,
      where: (message: T) => boolean = () => true,
      timeoutMs?: number,
    ) =>
      JSON.parse(
        await next((frame) => {
          try {
            const message = JSON.parse(frame) as T & { type?: string }
            return message.type === type && where(message)
          } catch {
            return false
          }
        }, timeoutMs),
      ) as T
    socket.once('open', () => resolve({ socket, received, next, nextOfType, closed }))
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`HTTP ${response.statusCode}`))
      socket.terminate()
    })
    socket.once('error', (error) => reject(error))
  })
}

/** The HTTP status with which an upgrade is refused (fails the test if it is accepted). */
export async function refusedStatus(
  url: string,
  protocols?: string[],
  options?: ClientOptions,
): Promise<number> {
  try {
    const opened = await openSocket(url, protocols, options)
    opened.socket.close()
  } catch (error) {
    const status = /^HTTP (\d+)$/.exec((error as Error).message)?.[1]
    if (status) return Number(status)
    throw error
  }
  throw new Error('the upgrade was accepted')
}
