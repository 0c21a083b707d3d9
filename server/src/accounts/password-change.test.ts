import { fieldMessages, WRONG_CURRENT_PASSWORD } from '@chat/contract'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { accountWithTwoSessions, bearer, postJson, startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket } from '../test/ws-client.ts'

const PASSWORD = '/api/v1.0/user/password'

describe.each(backends)('changing one’s password on $name', (backend) => {
  let t: TestApp
  beforeAll(async () => {
    t = await startTestApp(backend)
  })
  afterAll(() => t?.close())

  async function userWithTwoSessions() {
    const { email, first: here, second: elsewhere } = await accountWithTwoSessions(t.app)
    return { email, here, elsewhere }
  }
  const change = (token: string, body: Record<string, unknown>) =>
    postJson(t.app, PASSWORD, body, bearer(token))
  const login = (email: string, password: string) =>
    postJson(t.app, '/api/v1.0/user/auth', { email, password })

  it('asks for the current password, keeps this session, and ends the others when asked, closing their sockets', async () => {
    const { email, here, elsewhere } = await userWithTwoSessions()
    const url = `${(await t.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')}/ws`
    const socket = await openSocket(url, ['chat.v1', `bearer.${elsewhere}`])

    const wrong = await change(here, {
      current_password: 'not-my-password',
      new_password: 'a-brand-new-passphrase',
      end_other_sessions: true,
    })
    expect(wrong.statusCode).toBe(400)
    expect(wrong.json().data).toEqual({ current_password: [WRONG_CURRENT_PASSWORD] })

    const done = await change(here, {
      current_password: 'a-good-password',
      new_password: 'a-brand-new-passphrase',
      end_other_sessions: true,
    })
    expect(done.json()).toEqual({ valid: true, data: { sessions_ended: 1 } })
    expect((await socket.closed).code).toBe(4001)
    const me = (token: string) =>
      t.app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(token) })
    expect((await me(here)).statusCode).toBe(200)
    expect((await me(elsewhere)).statusCode).toBe(401)
    expect((await login(email, 'a-good-password')).statusCode).toBe(401)
    expect((await login(email, 'a-brand-new-passphrase')).statusCode).toBe(200)
  })

  it('leaves other sessions alone when not asked, and refuses a common new password', async () => {
    const { here, elsewhere } = await userWithTwoSessions()
    const common = await change(here, {
      current_password: 'a-good-password',
      new_password: 'password123',
      end_other_sessions: false,
    })
    expect(common.json()).toEqual({ valid: false, data: { new_password: [fieldMessages.commonPassword] } })
    const kept = await change(here, {
      current_password: 'a-good-password',
      new_password: 'a-brand-new-passphrase',
      end_other_sessions: false,
    })
    expect(kept.json()).toEqual({ valid: true, data: { sessions_ended: 0 } })
    const me = await t.app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(elsewhere) })
    expect(me.statusCode).toBe(200)
  })

  it('stops a session that guesses the current password after 5 wrong ones', async () => {
    const { here } = await userWithTwoSessions()
    const statuses = []
    for (let i = 0; i < 6; i++) {
      const guess = await change(here, {
        current_password: `guess-${i}`,
        new_password: 'a-brand-new-passphrase',
        end_other_sessions: false,
      })
      statuses.push(guess.statusCode)
    }
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429])
    const anonymous = await postJson(t.app, PASSWORD, {
      current_password: 'a-good-password',
      new_password: 'a-brand-new-passphrase',
      end_other_sessions: false,
    })
    expect(anonymous.statusCode).toBe(401)
  })
})
