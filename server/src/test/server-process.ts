import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

const serverDir = path.resolve(import.meta.dirname, '../..')

export interface ServerProcess {
  child: ChildProcess
  output(): string
  /** resolves with the API's base URL once the process logs that it is ready */
  ready(timeoutMs?: number): Promise<string>
  exited(): Promise<number | null>
  stop(): Promise<number | null>
}

/**
 * `src/main.ts` (or the given script, such as a compiled bundle) in a process of its own, with only the
 * given variables on top of a clean environment.
 */
export function spawnServer(
  env: Record<string, string>,
  args: string[] = [],
  script: string[] = ['--import', 'tsx', 'src/main.ts'],
): ServerProcess {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(DATABASE_URL|REDIS_|POSTGRES_|API_|APP_ROLE|PG|WS_|SESSION_)/.test(name),
    ),
  )
  const child = spawn(process.execPath, [...script, ...args], {
    cwd: serverDir,
    env: { ...clean, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const exited = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
      else child.once('exit', (code) => resolve(code))
    })
  return {
    child,
    output: () => output,
    ready: async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const base = /ready: (http:\/\/[^\s"/]+)/.exec(output)?.[1]
        if (base) return `${base}/api`
        if (child.exitCode !== null) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      throw new Error(`the server did not get ready:\n${output}`)
    },
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      const code = await exited()
      clearTimeout(timer)
      return code
    },
  }
}
