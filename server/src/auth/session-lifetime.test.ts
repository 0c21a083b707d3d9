import { afterEach, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { bearer, postJson, sleep, startTestApp, type TestApp } from '../test/test-app.ts'

const ME = '/api/v1.0/user/me'

describe.each(backends)('session lifetime on $name', (backend) => {
  let t: TestApp | undefined
  afterEach(() => t?.close())

  const loginAsAdmin = async (app: TestApp) =>
    (await postJson(app.app, '/api/v1.0/user/auth', app.config.admin)).json().data.access_token as string
  const me = (app: TestApp, token: string) =>
    app.app.inject({ method: 'GET', url: ME, headers: bearer(token) })

  it('ends a session left idle, and slides the idle timeout on use', async () => {
    t = await startTestApp(backend, { SESSION_IDLE_TIMEOUT: '1.5', SESSION_ABSOLUTE_TIMEOUT: '60' })
    const used = await loginAsAdmin(t)
    const idle = await loginAsAdmin(t)
    // `used` is touched every 500 ms, leaving a request a second before its 1.5 s idle timeout even on a
    // loaded machine; `idle`, untouched for 2 s or more, has run out
    for (let i = 0; i < 4; i++) {
      await sleep(500)
      expect((await me(t, used)).statusCode).toBe(200)
    }
    expect((await me(t, idle)).statusCode).toBe(401)
    await sleep(2_000)
    expect((await me(t, used)).statusCode).toBe(401)
  })

  it('ends a session at its absolute lifetime however much it is used', async () => {
    t = await startTestApp(backend, { SESSION_IDLE_TIMEOUT: '0.5', SESSION_ABSOLUTE_TIMEOUT: '1.2' })
    const token = await loginAsAdmin(t)
    const started = Date.now()
    let lastAccepted = 0
    // used every 200 ms: idle never runs out, the absolute lifetime does (bounded: 3 s at most)
    while (Date.now() - started < 3_000) {
      if ((await me(t, token)).statusCode !== 200) break
      lastAccepted = Date.now() - started
      await sleep(200)
    }
    expect(lastAccepted).toBeGreaterThanOrEqual(900)
    expect(lastAccepted).toBeLessThan(1_300)
    expect((await me(t, token)).statusCode).toBe(401)
  })
})
