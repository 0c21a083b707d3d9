import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './ports.ts'

export interface OwnRedis {
  url: string
  /** a plain client of this server, for the test's own commands */
  client: Redis
  stop(): Promise<void>
}

/** A redis-server of the test's own, on a free loopback port, with the given options; gone after `stop`. */
export async function startOwnRedis(options: string[] = []): Promise<OwnRedis> {
  const port = await freePort()
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-'))
  const child: ChildProcess = spawn(
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
  const url = `redis://127.0.0.1:${port}`
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  // until the server is up, connection errors are expected; the last one is the reason if it never is
  let lastError: unknown
  client.on('error', (error) => (lastError = error))
  for (let attempt = 0; ; attempt++) {
    try {
      await client.connect()
      await client.ping()
      break
    } catch (error) {
      client.disconnect()
      if (attempt >= 50) {
        throw new Error(`redis-server on ${port} did not start: ${String(lastError ?? error)}`, {
          cause: error,
        })
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    url,
    client,
    stop: async () => {
      client.disconnect()
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
