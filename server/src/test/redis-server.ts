import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './ports.ts'

export interface OwnRedis {
  url: string
  pid: number
  /** a plain client of this server, for the test's own commands */
  client: Redis
  stop(): Promise<void>
}

/** redis-server on a loopback port, keeping its files in `dir`, with the given options on top. */
export function spawnRedisServer(port: number, dir: string, options: string[] = []): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...options,
    ],
    { stdio: 'ignore' },
  )
}

/** A client of the server at `url` once it answers PING (it may still be starting). */
export async function connectWhenUp(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  // until the server is up, connection errors are expected; the last one is the reason if it never is
  let lastError: unknown
  client.on('error', (error) => (lastError = error))
  for (let attempt = 0; ; attempt++) {
    try {
      await client.connect()
      await client.ping()
      return client
    } catch (error) {
      client.disconnect()
      if (attempt >= 50) {
        throw new Error(`redis-server at ${url} did not start: ${String(lastError ?? error)}`, {
          cause: error,
        })
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/** Ends the server and waits until it has exited. */
export async function stopRedisServer(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  await exited
}

/** A redis-server of the test's own, on a free loopback port, with the given options; gone after `stop`. */
export async function startOwnRedis(options: string[] = []): Promise<OwnRedis> {
  const port = await freePort()
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-'))
  const child = spawnRedisServer(port, dir, options)
  const url = `redis://127.0.0.1:${port}`
  const client = await connectWhenUp(url)
  return {
    url,
    pid: child.pid!,
    client,
    stop: async () => {
      client.disconnect()
      await stopRedisServer(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
