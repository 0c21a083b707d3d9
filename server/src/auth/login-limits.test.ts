import { afterEach, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { newEmail, sleep, startTestApp, type TestApp } from '../test/test-app.ts'

const AUTH = '/api/v1.0/user/auth'
const REGISTER = '/api/v1.0/user/register'

describe.each(backends)('failed-login limits on $name', (backend) => {
  let t: TestApp | undefined
  afterEach(() => t?.close())

  const post = (
    url: string,
    body: Record<string, string>,
    remoteAddress: string,
    headers: Record<string, string> = {},
  ) =>
    t!.app.inject({
      method: 'POST',
      url,
      remoteAddress,
      payload: body,
      headers: { 'content-type': 'application/json', ...headers },
    })
  const attempt = (email: string, password: string, remoteAddress = '127.0.0.1', headers = {}) =>
    post(AUTH, { email, password }, remoteAddress, headers)
  /** The `device` cookie a successful login sets, as a Cookie header for the next request. */
  const deviceCookieOf = (response: Awaited<ReturnType<typeof attempt>>) => {
    const device = response.cookies.find((cookie) => cookie.name === 'device')
    expect(device, 'a device cookie').toBeDefined()
    expect(device).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' })
    return { cookie: `device=${device!.value}` }
  }

  it('keeps the owner able to log in while an attacker guesses from many addresses', async () => {
    t = await startTestApp(backend, {
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_MAX_FAILURES_PER_CLIENT: '5',
      LOGIN_FAILURE_WINDOW: '60',
    })
    const { email, password } = t.config.admin
    const atHome = await attempt(email, password, '192.0.2.10')
    expect(atHome.statusCode).toBe(200)
    const device = deviceCookieOf(atHome)

    // ten guesses, each from a new address: the account's cap for unknown clients is reached at three
    const guesses = []
    for (let i = 0; i < 10; i++)
      guesses.push((await attempt(email, `guess-${i}`, `203.0.113.${i}`)).statusCode)
    expect(guesses).toEqual([401, 401, 401, ...Array(7).fill(429)])
    // unknown clients wait, even with the right password: the attacker must not learn it was right
    const unknown = await attempt(email, password, '203.0.113.200')
    expect(unknown.statusCode).toBe(429)
    const retryAfter = Number(unknown.headers['retry-after'])
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(unknown.json()).toEqual({
      valid: false,
      data: expect.stringMatching(/^Too many failed logins; try again in \d+ seconds$/),
    })

    // the owner's browser, from any address, and the owner's known address, still get in
    expect((await attempt(email, password, '198.51.100.77', device)).statusCode).toBe(200)
    expect((await attempt(email, password, '192.0.2.10')).statusCode).toBe(200)
    // a made-up device cookie is just an unknown client
    expect((await attempt(email, password, '198.51.100.78', { cookie: 'device=made-up' })).statusCode).toBe(
      429,
    )
  })

  it('gives a known browser only a few guesses before it is an unknown client again', async () => {
    t = await startTestApp(backend, {
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '2',
      LOGIN_MAX_FAILURES_PER_CLIENT: '3',
      LOGIN_FAILURE_WINDOW: '60',
    })
    const { email, password } = t.config.admin
    const device = deviceCookieOf(await attempt(email, password, '192.0.2.20'))
    // guessing from the owner's browser: three failures, then it is an unknown client like any other,
    // so it meets the account's cap for unknown clients after two more
    const fromDevice = (address: string, guess: string) => attempt(email, guess, address, device)
    for (let i = 0; i < 3; i++) expect((await fromDevice('198.51.100.1', 'wrong')).statusCode).toBe(401)
    for (let i = 0; i < 2; i++) expect((await fromDevice('198.51.100.2', 'wrong')).statusCode).toBe(401)
    expect((await fromDevice('198.51.100.3', password)).statusCode).toBe(429)
  })

  it('gives one address only a few guesses at an account, and leaves its other accounts alone', async () => {
    t = await startTestApp(backend, { LOGIN_MAX_FAILURES_PER_CLIENT: '3', LOGIN_FAILURE_WINDOW: '60' })
    const other = newEmail()
    for (let i = 0; i < 3; i++) expect((await attempt(other, 'wrong', '198.51.100.9')).statusCode).toBe(401)
    expect((await attempt(other, 'wrong', '198.51.100.9')).statusCode).toBe(429)
    expect((await attempt(newEmail(), 'wrong', '198.51.100.9')).statusCode).toBe(401)
  })

  it('lets a client in once its window has passed', async () => {
    t = await startTestApp(backend, { LOGIN_MAX_FAILURES_PER_CLIENT: '2', LOGIN_FAILURE_WINDOW: '1' })
    const { email, password } = t.config.admin
    for (let i = 0; i < 2; i++) expect((await attempt(email, 'wrong-password')).statusCode).toBe(401)
    expect((await attempt(email, password)).statusCode).toBe(429)
    await sleep(1_200)
    expect((await attempt(email, password)).statusCode).toBe(200)
  })

  it("forgets a client's failures after its successful login", async () => {
    t = await startTestApp(backend, { LOGIN_MAX_FAILURES_PER_CLIENT: '3', LOGIN_FAILURE_WINDOW: '60' })
    const { email, password } = t.config.admin
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) expect((await attempt(email, 'wrong-password')).statusCode).toBe(401)
      expect((await attempt(email, password)).statusCode).toBe(200)
    }
  })

  it('limits password spraying: one client address across many accounts, and only that address', async () => {
    t = await startTestApp(backend, { LOGIN_MAX_FAILURES_PER_ADDRESS: '4', LOGIN_FAILURE_WINDOW: '60' })
    for (let i = 0; i < 4; i++)
      expect((await attempt(newEmail(), 'password1', '10.1.1.1')).statusCode).toBe(401)
    expect((await attempt(newEmail(), 'password1', '10.1.1.1')).statusCode).toBe(429)
    expect((await attempt(newEmail(), 'password1', '10.1.1.2')).statusCode).toBe(401)
  })

  it('cannot be dodged by guessing in parallel, from one address or from many', async () => {
    t = await startTestApp(backend, {
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '4',
      LOGIN_MAX_FAILURES_PER_CLIENT: '3',
      LOGIN_FAILURE_WINDOW: '60',
    })
    const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length
    const email = t.config.admin.email
    const one = (
      await Promise.all(Array.from({ length: 20 }, () => attempt(email, 'wrong', '10.2.0.1')))
    ).map((response) => response.statusCode)
    expect([count(one, 401), count(one, 429)]).toEqual([3, 17])
    const many = (
      await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(email, 'wrong', `10.3.0.${i + 1}`)))
    ).map((response) => response.statusCode)
    // the account's cap for unknown clients had one failure left after the three from 10.2.0.1
    expect([count(many, 401), count(many, 429)]).toEqual([1, 19])
  })

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    t = await startTestApp(backend, {
      LOGIN_MAX_FAILURES_PER_ADDRESS: '2',
      LOGIN_FAILURE_WINDOW: '60',
      TRUSTED_PROXIES: '127.0.0.1',
    })
    const viaProxy = (client: string) =>
      attempt(newEmail(), 'wrong-password', '127.0.0.1', { 'x-forwarded-for': client })
    // behind the trusted proxy, each client is counted on its own
    for (let i = 0; i < 2; i++) expect((await viaProxy('203.0.113.1')).statusCode).toBe(401)
    expect((await viaProxy('203.0.113.1')).statusCode).toBe(429)
    expect((await viaProxy('203.0.113.2')).statusCode).toBe(401)
    // a client that talks directly cannot pick its address by sending the header
    const direct = (forged: string) =>
      attempt(newEmail(), 'wrong-password', '198.51.100.7', { 'x-forwarded-for': forged })
    expect((await direct('192.0.2.1')).statusCode).toBe(401)
    expect((await direct('192.0.2.2')).statusCode).toBe(401)
    expect((await direct('192.0.2.3')).statusCode).toBe(429)
  })

  it('limits registrations per client address, saying when to come back', async () => {
    t = await startTestApp(backend, { REGISTER_MAX_PER_ADDRESS: '3', REGISTER_WINDOW: '3600' })
    const register = (address: string) =>
      post(REGISTER, { email: newEmail(), password: 'a-good-password' }, address)
    for (let i = 0; i < 3; i++) expect((await register('10.9.0.1')).statusCode).toBe(201)
    const refused = await register('10.9.0.1')
    expect(refused.statusCode).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3500)
    expect(refused.json()).toEqual({
      valid: false,
      data: 'Too many new accounts from this address; try again in 60 minutes',
    })
    expect((await register('10.9.0.2')).statusCode).toBe(201)
  })
})
