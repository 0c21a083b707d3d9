import { afterEach, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { newEmail, postJson, sleep, startTestApp, type TestApp } from '../test/test-app.ts'

const AUTH = '/api/v1.0/user/auth'

describe.each(backends)('failed-login limits on $name', (backend) => {
  let t: TestApp | undefined
  afterEach(() => t?.close())

  const attempt = (
    app: TestApp,
    email: string,
    password: string,
    remoteAddress = '127.0.0.1',
    headers = {},
  ) =>
    app.app.inject({
      method: 'POST',
      url: AUTH,
      remoteAddress,
      payload: { email, password },
      headers: { 'content-type': 'application/json', ...headers },
    })

  it('holds an account back after too many failures, says when to retry, then lets the real user in', async () => {
    t = await startTestApp(backend, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_FAILURE_WINDOW: '1' })
    const { email, password } = t.config.admin
    for (let i = 0; i < 3; i++) expect((await attempt(t, email, 'wrong-password')).statusCode).toBe(401)
    // even the right password waits: the attacker must not learn it was right
    const blocked = await attempt(t, email.toUpperCase(), password, '10.0.0.9')
    expect(blocked.statusCode).toBe(429)
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(1)
    expect(blocked.json()).toEqual({
      valid: false,
      data: expect.stringMatching(/^Too many failed logins; try again in \d+ s$/),
    })
    await sleep(1_100)
    expect((await attempt(t, email, password)).statusCode).toBe(200)
  })

  it('forgets the failures of an account after a successful login', async () => {
    t = await startTestApp(backend, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_FAILURE_WINDOW: '60' })
    const { email, password } = t.config.admin
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) expect((await attempt(t, email, 'wrong-password')).statusCode).toBe(401)
      expect((await attempt(t, email, password)).statusCode).toBe(200)
    }
  })

  it('limits one client address across many accounts, and only that address', async () => {
    t = await startTestApp(backend, { LOGIN_MAX_FAILURES_PER_ADDRESS: '4', LOGIN_FAILURE_WINDOW: '60' })
    for (let i = 0; i < 4; i++)
      expect((await attempt(t, newEmail(), 'wrong-password', '10.1.1.1')).statusCode).toBe(401)
    expect((await attempt(t, newEmail(), 'wrong-password', '10.1.1.1')).statusCode).toBe(429)
    expect((await attempt(t, newEmail(), 'wrong-password', '10.1.1.2')).statusCode).toBe(401)
  })

  it('cannot be dodged by guessing in parallel', async () => {
    t = await startTestApp(backend, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '5', LOGIN_FAILURE_WINDOW: '60' })
    const email = t.config.admin.email
    const answers = await Promise.all(Array.from({ length: 20 }, () => attempt(t!, email, 'wrong-password')))
    const statuses = answers.map((answer) => answer.statusCode)
    expect(statuses.filter((status) => status === 401)).toHaveLength(5)
    expect(statuses.filter((status) => status === 429)).toHaveLength(15)
  })

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    t = await startTestApp(backend, {
      LOGIN_MAX_FAILURES_PER_ADDRESS: '2',
      LOGIN_FAILURE_WINDOW: '60',
      TRUSTED_PROXIES: '127.0.0.1',
    })
    const viaProxy = (client: string) =>
      attempt(t!, newEmail(), 'wrong-password', '127.0.0.1', { 'x-forwarded-for': client })
    // behind the trusted proxy, each client is counted on its own
    for (let i = 0; i < 2; i++) expect((await viaProxy('203.0.113.1')).statusCode).toBe(401)
    expect((await viaProxy('203.0.113.1')).statusCode).toBe(429)
    expect((await viaProxy('203.0.113.2')).statusCode).toBe(401)
    // a client that talks directly cannot pick its address by sending the header
    const direct = (forged: string) =>
      attempt(t!, newEmail(), 'wrong-password', '198.51.100.7', { 'x-forwarded-for': forged })
    expect((await direct('192.0.2.1')).statusCode).toBe(401)
    expect((await direct('192.0.2.2')).statusCode).toBe(401)
    expect((await direct('192.0.2.3')).statusCode).toBe(429)
  })
})
