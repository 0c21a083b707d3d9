import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { bearer, newEmail, postJson, startTestApp, type TestApp } from '../test/test-app.ts'

const USER = '/api/v1.0/user'

describe.each(backends)('cross-site requests and caching on $name', (backend) => {
  let t: TestApp
  beforeAll(async () => {
    t = await startTestApp(backend, { WS_ALLOWED_ORIGINS: 'https://app.example.com' })
  })
  afterAll(() => t?.close())

  const account = async () => {
    const email = newEmail()
    const response = await postJson(t.app, `${USER}/register`, { email, password: 'a-good-password' })
    expect(response.statusCode).toBe(201)
    return { email, token: response.json().data.access_token as string }
  }
  const cookie = (token: string) => ({ cookie: `${t.config.session.cookieName}=${token}` })
  const post = (path: string, headers: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: `${USER}${path}`,
      headers: { 'content-type': 'application/json', ...headers },
      payload: '{}',
    })
  const stillLoggedIn = async (token: string) =>
    (await t.app.inject({ method: 'GET', url: `${USER}/me`, headers: cookie(token) })).statusCode === 200

  it('refuses a cookie-authenticated logout-all from another origin, and the sessions survive', async () => {
    const { token } = await account()
    const response = await post('/logout-all', { ...cookie(token), origin: 'https://evil.example' })
    expect(response.statusCode).toBe(403)
    expect(response.json()).toEqual({
      valid: false,
      data: 'Requests from other sites are refused; use the app from its own address',
    })
    expect(await stillLoggedIn(token)).toBe(true)
  })

  it('refuses what the browser marks Sec-Fetch-Site: cross-site, even without an Origin', async () => {
    const { token } = await account()
    expect((await post('/logout', { ...cookie(token), 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403)
    expect(await stillLoggedIn(token)).toBe(true)
  })

  it('compares the whole origin: another scheme or port of the same host is another origin', async () => {
    const { token } = await account()
    // inject's requests are http://localhost:80
    expect((await post('/logout', { ...cookie(token), origin: 'https://localhost' })).statusCode).toBe(403)
    expect((await post('/logout', { ...cookie(token), origin: 'http://localhost:8080' })).statusCode).toBe(
      403,
    )
    expect(await stillLoggedIn(token)).toBe(true)
  })

  it('lets the same origin, an allowed origin, same-origin fetch metadata and non-browser clients through', async () => {
    const cases: Record<string, string>[] = [
      { origin: 'http://localhost' },
      { origin: 'https://app.example.com' },
      { 'sec-fetch-site': 'same-origin' },
      {},
    ]
    for (const headers of cases) {
      const { token } = await account()
      expect((await post('/logout', { ...cookie(token), ...headers })).statusCode).toBe(200)
      expect(await stillLoggedIn(token)).toBe(false)
    }
  })

  it('refuses a login posted from another site (login CSRF), but not one from a client without Origin', async () => {
    const { email } = await account()
    const body = JSON.stringify({ email, password: 'a-good-password' })
    const from = (headers: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: `${USER}/auth`,
        headers: { 'content-type': 'application/json', ...headers },
        payload: body,
      })
    expect((await from({ origin: 'https://evil.example' })).statusCode).toBe(403)
    expect((await from({})).statusCode).toBe(200)
  })

  it('lets a bearer-token client through whatever its Origin: a bearer token is no ambient credential', async () => {
    const { token } = await account()
    expect(
      (await post('/logout', { ...bearer(token), origin: 'https://elsewhere.example' })).statusCode,
    ).toBe(200)
  })

  it('marks answers that carry tokens or account data Cache-Control: no-store', async () => {
    const email = newEmail()
    const registered = await postJson(t.app, `${USER}/register`, { email, password: 'a-good-password' })
    const loggedIn = await postJson(t.app, `${USER}/auth`, { email, password: 'a-good-password' })
    const me = await t.app.inject({
      method: 'GET',
      url: `${USER}/me`,
      headers: bearer(loggedIn.json().data.access_token),
    })
    const refused = await postJson(t.app, `${USER}/auth`, { email, password: 'a-wrong-password' })
    for (const response of [registered, loggedIn, me, refused]) {
      expect(response.headers['cache-control']).toBe('no-store')
    }
  })
})
