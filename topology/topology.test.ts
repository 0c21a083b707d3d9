import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fetch as undiciFetch, type RequestInit, type Response } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTestDatabase,
  createTestRedisPrefix,
  openSocket,
  refusedStatus,
  TEST_REDIS_URL,
  type TestSocket,
} from '@chat/server/testing'
import { startStack, type StackUnderTest } from './stack-under-test.ts'

const admin = { email: 'admin@example.com', password: 'topology-admin-password' }
/** few, so a test can reach the per-address limit; every other test's logins succeed and give theirs back */
const maxFailuresPerAddress = 4

describe('the topology through real nginx (make stack)', () => {
  let stack: StackUnderTest
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let redis: ReturnType<typeof createTestRedisPrefix>
  const tokens: string[] = []
  /** stand in for Grafana and the mail catcher's inbox behind nginx: each answers with the path asked for */
  let grafana: Server
  let mailUi: Server

  beforeAll(async () => {
    database = await createTestDatabase()
    redis = createTestRedisPrefix()
    grafana = createServer((request, response) => response.end(`grafana saw ${request.url}`))
    mailUi = createServer((request, response) => response.end(`mail UI saw ${request.url}`))
    for (const server of [grafana, mailUi])
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    stack = await startStack({
      GRAFANA_PORT: String((grafana.address() as AddressInfo).port),
      MAIL_UI_PORT: String((mailUi.address() as AddressInfo).port),
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redis.prefix,
      API_ADMIN_EMAIL: admin.email,
      API_ADMIN_PASSWORD: admin.password,
      API_MODE: 'production',
      LOGIN_MAX_FAILURES_PER_ADDRESS: String(maxFailuresPerAddress),
    })
  })
  afterAll(async () => {
    grafana?.close()
    mailUi?.close()
    await stack?.stop()
    await Promise.all([database?.drop(), redis?.drop()])
  })

  const url = (pathname: string) => `${stack.url}${pathname}`
  const wsUrl = () => url('/ws').replace('https', 'wss')
  const fetch = (target: string, init?: RequestInit) => stack.fetch(target, init)
  const tlsOptions = () => ({ ca: stack.ca })
  const sessionCookie = (token: string) => `__Host-session=${token}`

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
    const socket = await openSocket(`${wsUrl()}?token=${token}`, undefined, tlsOptions())
    socket.socket.send('hello through nginx')
    expect(await socket.next(() => true)).toBe("I've received: hello through nginx")
    socket.socket.send('/out')
    expect((await socket.closed).code).toBe(1000)
    expect(await refusedStatus(`${wsUrl()}?token=not-a-token`, undefined, tlsOptions())).toBe(401)
  })

  it('lets two chat clients on two different ws processes see each other', async () => {
    const [aliceToken, bobToken] = [await registerUser(), await registerUser()]
    const connect = async (token: string) => {
      const socket = await openSocket(wsUrl(), ['chat.v1', `bearer.${token}`], tlsOptions())
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
    const adminCookie = sessionCookie(await login(admin))
    const userCookie = sessionCookie(await registerUser())
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

  it("passes /mail/ to the mail catcher's inbox for an admin session only", async () => {
    const adminCookie = sessionCookie(await login(admin))
    const userCookie = sessionCookie(await registerUser())
    expect((await fetch(url('/mail/'), { redirect: 'manual' })).status).toBe(401)
    expect((await fetch(url('/mail/'), { headers: { cookie: userCookie } })).status).toBe(401)
    const asAdmin = await fetch(url('/mail/view/latest'), { headers: { cookie: adminCookie } })
    expect(asAdmin.status).toBe(200)
    expect(await asAdmin.text()).toBe('mail UI saw /mail/view/latest')
  })

  it('passes /grafana/ to Grafana for an admin session only, and never routes /metrics', async () => {
    const adminCookie = sessionCookie(await login(admin))
    const userCookie = sessionCookie(await registerUser())
    expect((await fetch(url('/grafana/'), { redirect: 'manual' })).status).toBe(401)
    const asUser = await fetch(url('/grafana/d/chat-overview'), { headers: { cookie: userCookie } })
    expect(asUser.status).toBe(401)
    const asAdmin = await fetch(url('/grafana/d/chat-overview'), { headers: { cookie: adminCookie } })
    expect(asAdmin.status).toBe(200)
    expect(await asAdmin.text()).toBe('grafana saw /grafana/d/chat-overview')
    // the processes' metrics listen on a port of their own; nginx has no way to it
    for (const pathname of ['/metrics', '/api/metrics'])
      expect((await fetch(url(pathname), { headers: { cookie: adminCookie } })).status).toBe(404)
  })

  it('logs Adminer in to PostgreSQL and shows the users table', async () => {
    const cookies = new Map([['__Host-session', await login(admin)]])
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

  it('keeps Adminer to the configured database server: no other host, port or driver', async () => {
    const cookie = sessionCookie(await login(admin))
    const redisPort = new URL(TEST_REDIS_URL).port || '6379'
    const get = (query: string) => fetch(url(`/db/?${query}`), { headers: { cookie }, redirect: 'manual' })
    // another port of the same host (an internal service), another driver, or no server named at all
    for (const query of [
      `pgsql=127.0.0.1:${redisPort}&username=x`,
      `server=127.0.0.1:${redisPort}&username=x`,
      'sqlite=&username=x',
      'pgsql=127.0.0.1&server=10.0.0.1&username=x',
      'username=x',
    ]) {
      const response = await get(query)
      expect(response.status, query).toBe(403)
      expect(await response.text()).toBe(
        'This database console connects only to the PostgreSQL server at 127.0.0.1.\n',
      )
    }
    // a login form posted to the allowed URL but naming another server
    const form = new URLSearchParams({
      'auth[driver]': 'pgsql',
      'auth[server]': `127.0.0.1:${redisPort}`,
      'auth[username]': 'postgres',
      'auth[password]': 'trusted',
    })
    const posted = await fetch(url('/db/?pgsql=127.0.0.1&username=postgres'), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    })
    expect(posted.status).toBe(403)
    // Adminer's own static files name no server and still load
    expect((await get('file=default.css&version=4.8.1')).status).toBe(200)
  })

  it("keeps Adminer's throttle file and PHP's sessions in the stack's directory", async () => {
    // a user named but no Adminer session: Adminer counts an invalid login in adminer.invalid, in PHP's
    // temporary directory, and starts a session
    const refused = await fetch(
      url(`/db/?pgsql=127.0.0.1&username=nobody_${crypto.randomUUID().slice(0, 8)}`),
      {
        headers: { cookie: sessionCookie(await login(admin)) },
      },
    )
    expect(refused.status).toBe(403)
    const phpTemp = readdirSync(path.join(stack.dir, 'tmp', 'php'))
    expect(phpTemp).toContain('adminer.invalid')
    expect(phpTemp.some((name) => name.startsWith('sess_'))).toBe(true)
  })

  it('renders an nginx config that passes nginx -t', () => {
    const output = execFileSync('nginx', ['-t', '-p', stack.dir, '-c', path.join(stack.dir, 'nginx.conf')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    expect(output).toBe('')
  })

  it('redirects plain HTTP to HTTPS for good, path and query kept', async () => {
    const response = await undiciFetch(`${stack.httpUrl}/app/login?next=%2Fapp%2F`, { redirect: 'manual' })
    expect(response.status).toBe(301)
    expect(response.headers.get('location')).toBe(`${stack.url}/app/login?next=%2Fapp%2F`)
    expect(response.headers.get('set-cookie')).toBeNull()
  })

  it('sends Strict-Transport-Security on HTTPS answers, errors included', async () => {
    for (const pathname of ['/api', '/app/', '/no-such-page']) {
      const response = await fetch(url(pathname))
      expect(response.headers.get('strict-transport-security'), pathname).toBe(
        'max-age=31536000; includeSubDomains',
      )
    }
  })

  it('sets the login and device cookies as __Host-, Secure, for the whole site and no other domain', async () => {
    const response = await fetch(url('/api/v1.0/user/auth'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    })
    const cookies = response.headers.getSetCookie()
    const session = cookies.find((cookie) => cookie.startsWith('__Host-session='))
    expect(session).toMatch(/^__Host-session=[A-Za-z0-9_-]{43};/)
    expect(cookies.find((cookie) => cookie.startsWith('__Host-device='))).toMatch(
      /^__Host-device=[A-Za-z0-9_-]{43};/,
    )
    for (const cookie of cookies) {
      const attributes = cookie.split(';').map((part) => part.trim().toLowerCase())
      expect(attributes).toContain('secure')
      expect(attributes).toContain('httponly')
      expect(attributes).toContain('path=/')
      expect(attributes.some((attribute) => attribute.startsWith('domain'))).toBe(false)
    }
    tokens.push(session!.split(';')[0]!.split('=')[1]!)
  })

  it('hides the X-Powered-By that Adminer (PHP) sends', async () => {
    // a path Adminer's router answers itself with a 404, a PHP answer all the same
    const page = '/db/no-such-page'
    const direct = await fetch(`${stack.adminerUrl}${page}`)
    expect(direct.headers.get('x-powered-by'), 'PHP says who it is').toMatch(/PHP/)
    const proxied = await fetch(url(page), { headers: { cookie: sessionCookie(await login(admin)) } })
    expect(proxied.status).toBe(404)
    expect(proxied.headers.get('x-powered-by')).toBeNull()
  })

  it('keeps every token out of the access and error logs of this nginx', () => {
    const logs = ['access.log', 'error.log'].map((name) => readFileSync(path.join(stack.dir, name), 'utf8'))
    expect(logs[0]).toContain('GET /ws HTTP/1.1')
    expect(tokens.length).toBeGreaterThan(3)
    for (const token of tokens) for (const log of logs) expect(log).not.toContain(token)
  })

  // last: it spends the address's login attempts for the rest of the window
  it('attributes a login to the address nginx saw, whatever X-Forwarded-For the client sends', async () => {
    const statuses: number[] = []
    for (let attempt = 0; attempt <= maxFailuresPerAddress; attempt++) {
      const response = await fetch(url('/api/v1.0/user/auth'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${attempt + 1}` },
        body: JSON.stringify({ email: `nobody-${attempt}@example.com`, password: 'not-the-password' }),
      })
      statuses.push(response.status)
    }
    // the failures all counted against 127.0.0.1, not against five forged addresses
    expect(statuses).toEqual([...Array<number>(maxFailuresPerAddress).fill(401), 429])
  })
})
