import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const serverDir = path.resolve(import.meta.dirname, '..')

/** `npm start` as a fresh machine runs it: no DATABASE_URL, no REDIS_URL, nothing but Node. */
function startMain(env: Record<string, string>): ChildProcess & { output: () => string } {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(DATABASE_URL|REDIS_URL|POSTGRES_|API_|PG)/.test(name)),
  )
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { ...clean, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  return Object.assign(child, { output: () => output })
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = probe()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('timed out')
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })

describe('main, the embedded default', () => {
  let child: ReturnType<typeof startMain> | undefined
  let dataDir: string | undefined
  afterEach(() => {
    child?.kill('SIGKILL')
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('starts with no services, says which backends it uses, logs the admin in, and stops on SIGTERM', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'pglite-'))
    child = startMain({ PGLITE_DATA_DIR: dataDir, API_MODE: 'dev' })
    const url = await waitFor(() => /ready: (http:\/\/\S+\/api)/.exec(child!.output())?.[1], 60_000)
    expect(child.output()).toContain(`database: embedded PGlite (${dataDir})`)
    expect(child.output()).toContain('sessions: in this process (no REDIS_URL)')

    const response = await fetch(`${url}/v1.0/user/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', password: 'change-me-admin-password' }),
    })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { data: { access_token: string } }).data.access_token).toMatch(
      /^[A-Za-z0-9_-]{43}$/,
    )

    child.kill('SIGTERM')
    expect(await exited(child)).toBe(0)
  })

  it('refuses to start on a bad variable, naming it', async () => {
    child = startMain({ PORT: 'eighty', PGLITE_DATA_DIR: 'memory://' })
    expect(await exited(child)).toBe(1)
    expect(child.output()).toContain(
      'Cannot start: invalid configuration: PORT must be integer (got "eighty")',
    )
  })

  it('refuses the placeholder admin password in production', async () => {
    child = startMain({
      API_MODE: 'production',
      API_ADMIN_EMAIL: 'admin@example.com',
      API_ADMIN_PASSWORD: 'change-me-admin-password',
      PGLITE_DATA_DIR: 'memory://',
    })
    expect(await exited(child)).toBe(1)
    expect(child.output()).toContain('API_ADMIN_PASSWORD is the placeholder')
  })
})
