import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { PLACEHOLDER_ADMIN } from '@chat/server'
import { createTestDatabase, createTestRedisPrefix, TEST_REDIS_URL } from '@chat/server/testing'
import { startStack } from './stack-under-test.ts'

const root = path.resolve(import.meta.dirname, '..')
/** as on a fresh clone: none of the admin or certificate variables (an empty value counts as unset) */
const freshClone = {
  API_MODE: '',
  API_ADMIN_EMAIL: '',
  API_ADMIN_PASSWORD: '',
  TLS_CERTIFICATE: '',
  TLS_CERTIFICATE_KEY: '',
}

describe('make stack on a fresh clone', () => {
  const dirs: string[] = []
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

  it('refuses API_MODE=production without an admin at once, naming the variables', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'stack-'))
    dirs.push(dir)
    const started = Date.now()
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'stack.mjs')], {
      cwd: root,
      env: { ...process.env, ...freshClone, API_MODE: 'production', STACK_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code).toBe(2)
    expect(output).toMatch(/API_MODE=production needs API_ADMIN_EMAIL and API_ADMIN_PASSWORD/)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('starts without admin variables or a certificate: dev defaults, a certificate of its own', async () => {
    const database = await createTestDatabase()
    const redis = createTestRedisPrefix()
    const stack = await startStack(
      {
        ...freshClone,
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: redis.prefix,
      },
      { makesItsOwnCertificate: true },
    )
    try {
      // trusted through the certificate the stack made in its directory, for 127.0.0.1
      expect(existsSync(path.join(stack.dir, 'certs', 'cert.pem'))).toBe(true)
      expect(await (await stack.fetch(`${stack.url}/api`)).json()).toEqual({ hello: 'world' })
      const login = await stack.fetch(`${stack.url}/api/v1.0/user/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(PLACEHOLDER_ADMIN),
      })
      expect(login.status).toBe(200)
      expect(login.headers.getSetCookie().find((cookie) => cookie.startsWith('__Host-session='))).toMatch(
        /^__Host-session=.*; Secure/,
      )
    } finally {
      await stack.stop()
      await Promise.all([database.drop(), redis.drop()])
    }
    // nothing left behind: config, logs, certificate and PHP's temporary files all lived in the directory
    expect(existsSync(stack.dir)).toBe(false)
  })
})
