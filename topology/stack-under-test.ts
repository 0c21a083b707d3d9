import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function waitUntilUp(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${url} did not come up`)
}

export interface StackUnderTest {
  url: string
  dir: string
  wsPorts: number[]
  /** what the processes printed, for a failure's message */
  output(): string
  restart(downMs: number): Promise<void>
  stop(): Promise<void>
}

/**
 * `make stack` on free ports, in a directory of its own, against the given backends: nginx, Adminer under
 * php -S, one api and two ws processes. Resolves once nginx, the api and both ws processes answer.
 */
export async function startStack(env: Record<string, string>): Promise<StackUnderTest> {
  if (!existsSync(path.join(root, 'web', 'dist', 'index.html')))
    throw new Error('build the SPA first: npm run build -w web')
  const ports = {
    nginx: await freePort(),
    api: await freePort(),
    ws: [await freePort(), await freePort()],
    adminer: await freePort(),
    spa: await freePort(),
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'stack-'))
  let child: ChildProcess | undefined
  let output = ''
  const start = async () => {
    child = spawn(process.execPath, [path.join(root, 'scripts', 'stack.mjs')], {
      cwd: root,
      env: {
        ...process.env,
        STACK_DIR: dir,
        ACCESS_LOG: path.join(dir, 'access.log'),
        NGINX_PORT: String(ports.nginx),
        API_PORT: String(ports.api),
        WS_PORTS: ports.ws.join(','),
        ADMINER_PORT: String(ports.adminer),
        SPA_STATIC_PORT: String(ports.spa),
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (chunk) => (output += chunk))
    child.stderr!.on('data', (chunk) => (output += chunk))
    const deadline = Date.now() + 90_000
    const up = [ports.api, ...ports.ws].map((port) =>
      waitUntilUp(`http://127.0.0.1:${port}/api/health`, deadline),
    )
    await Promise.all([...up, waitUntilUp(`http://127.0.0.1:${ports.nginx}/app/`, deadline)])
  }
  const stop = async () => {
    const running = child
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGTERM')
    const timer = setTimeout(() => running.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(timer)
  }
  try {
    await start()
  } catch (error) {
    await stop()
    throw new Error(`${String(error)}\n${output}`)
  }
  return {
    url: `http://127.0.0.1:${ports.nginx}`,
    dir,
    wsPorts: ports.ws,
    output: () => output,
    restart: async (downMs) => {
      await stop()
      await new Promise((resolve) => setTimeout(resolve, downMs))
      await start()
    },
    stop,
  }
}
