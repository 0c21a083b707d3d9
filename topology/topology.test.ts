import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, createTestRedisPrefix, TEST_REDIS_URL } from '../server/src/test/backends.ts'
import { openSocket, refusedStatus, type TestSocket } from '../server/src/test/ws-client.ts'
import { startStack, type StackUnderTest } from './stack-under-test.ts'

const root = path.resolve(import.meta.dirname, '..')
const admin = { email: 'admin@example.com', password: 'topology-admin-password' }

describe('the topology through real nginx (make stack)', () => {
  let stack: StackUnderTest
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let redis: ReturnType<typeof createTestRedisPrefix>
  const tokens: string[] = []

  beforeAll(async () => {
    database = await createTestDatabase()
    redis = createTestRedisPrefix()
    stack = await startStack({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redis.prefix,
      API_ADMIN_EMAIL: admin.email,
      API_ADMIN_PASSWORD: admin.password,
      ADMINER_DEFAULT_SERVER: '127.0.0.1',
      POSTGRES_USER: 'postgres',
    })
  })
  afterAll(async () => {
    await stack?.stop()
    await Promise.all([database?.drop(), redis?.drop()])
  })

  const url = (pathname: string) => `${stack.url}${pathname}`
  const wsUrl = () => url('/ws').replace('http', 'ws')

  async function login(credentials: { email: string; password: string }): Promise<string> {
    const response = await fetch(url('/api/v1.0/user/auth'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    })
    expect(response.status).toBe(200)
    const token = ((await response.json()) as { data: { access_token: string } }).data.access_token
    tokens.push(token)
    return token
  }

  async function registerUser(): Promise<string> {
    const credentials = {
      email: `user-${crypto.randomUUID().slice(0, 8)}@example.com`,
      password: 'a-good-password',
    }
    const response = await fetch(url('/api/v1.0/user/register'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    })
    expect(response.status).toBe(201)
    return login(credentials)
  }

  it('answers GET /api with the original greeting', async () => {
    const response = await fetch(url('/api'))
    expect(await response.json()).toEqual({ hello: 'world' })
  })

  it('logs the admin in at /api/v1.0/user/auth', async () => {
    expect(await login(admin)).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('speaks the echo protocol at /ws, and refuses a bad token before the upgrade', async () => {
    const token = await login(admin)
    const socket = await openSocket(`${wsUrl()}?token=${token}`)
    socket.socket.send('hello through nginx')
    expect(await socket.next(() => true)).toBe("I've received: hello through nginx")
    socket.socket.send('/out')
    expect((await socket.closed).code).toBe(1000)
    expect(await refusedStatus(`${wsUrl()}?token=not-a-token`)).toBe(401)
  })

  it('lets two chat clients on two different ws processes see each other', async () => {
    const [aliceToken, bobToken] = [await registerUser(), await registerUser()]
    const connect = async (token: string) => {
      const socket = await openSocket(wsUrl(), ['chat.v1', `bearer.${token}`])
      const welcome = await socket.nextOfType<{ server: string }>('welcome')
      return { socket, server: welcome.server }
    }
    const alice = await connect(aliceToken)
    // nginx spreads sockets over both ws processes; take the first of Bob's that lands on the other one
    let bob: { socket: TestSocket; server: string } | undefined
    const strays: TestSocket[] = []
    for (let attempt = 0; attempt < 6 && !bob; attempt++) {
      const candidate = await connect(bobToken)
      if (candidate.server !== alice.server) bob = candidate
      else strays.push(candidate.socket)
    }
    strays.forEach((stray) => stray.socket.close())
    expect(bob, 'a second ws process behind nginx').toBeDefined()
    for (const client of [alice.socket, bob!.socket]) {
      client.socket.send(JSON.stringify({ type: 'join', room: 'general' }))
      await client.nextOfType('joined')
    }
    alice.socket.socket.send(
      JSON.stringify({ type: 'send', room: 'general', clientId: 'topology-1', text: 'across processes' }),
    )
    const received = await bob!.socket.nextOfType<{ text: string }>(
      'message',
      (m) => m.text === 'across processes',
    )
    expect(received.text).toBe('across processes')
    for (const client of [alice.socket, bob!.socket]) client.socket.close()
  })

  it('serves the SPA at /app/ and its deep links, and redirects / there', async () => {
    for (const pathname of ['/app/', '/app/login']) {
      const response = await fetch(url(pathname))
      expect(response.status).toBe(200)
      expect(await response.text()).toContain('<div id="app"></div>')
    }
    const index = await fetch(url('/app/'))
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(index.headers.get('x-content-type-options')).toBe('nosniff')
    const script = /src="(\/app\/assets\/[^"]+\.js)"/.exec(await index.text())![1]!
    const asset = await fetch(url(script), { headers: { 'accept-encoding': 'gzip' } })
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(asset.headers.get('content-encoding')).toBe('gzip')
    const root = await fetch(url('/'), { redirect: 'manual' })
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toMatch(/\/app\/$/)
  })

  it('opens Adminer at /db to an admin session only, with the server filled in', async () => {
    const adminCookie = `session=${await login(admin)}`
    const userCookie = `session=${await registerUser()}`
    expect((await fetch(url('/db/'), { redirect: 'manual' })).status).toBe(401)
    expect((await fetch(url('/db/'), { redirect: 'manual', headers: { cookie: userCookie } })).status).toBe(
      401,
    )
    const bare = await fetch(url('/db/'), { redirect: 'manual', headers: { cookie: adminCookie } })
    expect(bare.status).toBe(302)
    expect(bare.headers.get('location')).toBe('/db/?pgsql=127.0.0.1&username=postgres')
    const page = await fetch(url('/db/?pgsql=127.0.0.1&username=postgres'), {
      headers: { cookie: adminCookie },
    })
    const html = await page.text()
    expect(html).toContain('<title>Login - 127.0.0.1 - Adminer')
    expect(html).toContain('value="127.0.0.1"')
  })

  it('logs Adminer in to PostgreSQL and shows the users table', async () => {
    const cookies = new Map([['session', await login(admin)]])
    const cookieHeader = () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    const keep = (response: Response) => {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';')
        const [name, value] = pair!.split('=')
        cookies.set(name!, value ?? '')
      }
      return response
    }
    const dbName = new URL(database.url).pathname.slice(1)
    keep(await fetch(url('/db/?pgsql=127.0.0.1&username=postgres'), { headers: { cookie: cookieHeader() } }))
    // local PostgreSQL trusts 127.0.0.1, so any password passes; Adminer itself refuses an empty one
    const form = new URLSearchParams({
      'auth[driver]': 'pgsql',
      'auth[server]': '127.0.0.1',
      'auth[username]': 'postgres',
      'auth[password]': 'trusted',
      'auth[db]': dbName,
    })
    const loggedIn = keep(
      await fetch(url('/db/?pgsql=127.0.0.1&username=postgres'), {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      }),
    )
    expect(loggedIn.status).toBe(302)
    const tables = await fetch(url(`/db/?pgsql=127.0.0.1&username=postgres&db=${dbName}&ns=public`), {
      headers: { cookie: cookieHeader() },
    })
    const html = await tables.text()
    expect(html).toMatch(/>users</)
    expect(html).toMatch(/>messages</)
  })

  it('keeps every token out of the nginx access log', async () => {
    const log = readFileSync(path.join(stack.dir, 'access.log'), 'utf8')
    expect(log).toContain('GET /ws HTTP/1.1')
    expect(tokens.length).toBeGreaterThan(3)
    for (const token of tokens) expect(log).not.toContain(token)
  })

  it('renders an nginx config that passes nginx -t', () => {
    const output = execFileSync('nginx', ['-t', '-p', stack.dir, '-c', path.join(stack.dir, 'nginx.conf')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    expect(output).toBe('')
  })

  it('has compose files that docker-compose accepts, and refuse to run without the required variables', () => {
    const envFile = path.join(stack.dir, 'compose.env')
    writeFileSync(
      envFile,
      `${readFileSync(path.join(root, '.env.example'), 'utf8')}\nAPI_ADMIN_PASSWORD=a-real-password\n`,
    )
    const compose = (...args: string[]) =>
      execFileSync('docker-compose', ['--env-file', envFile, ...args], {
        cwd: root,
        encoding: 'utf8',
        stdio: 'pipe',
      })
    const config = compose('-f', 'compose.yml', 'config')
    expect(config).toContain('published: 80')
    expect(config).toContain('target: 8080')
    expect(compose('config', '--services').split('\n').sort().filter(Boolean)).toEqual(
      ['adminer', 'api', 'app', 'db', 'nginx', 'redis', 'ws'].sort(),
    )
    // only nginx publishes a port
    expect(config.match(/published:/g)).toHaveLength(1)
    writeFileSync(envFile, 'API_MODE=production\n')
    expect(() => compose('-f', 'compose.yml', 'config', '-q')).toThrow(/set API_ADMIN_EMAIL|set POSTGRES/)
  })
})
