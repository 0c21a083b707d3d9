import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { bearer, newEmail, postJson, startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket, refusedStatus } from '../test/ws-client.ts'
import { UserRepository } from './user-repository.ts'

const USER = '/api/v1.0/user'
const PASSWORD = 'a-good-password'

// Authority lives in the database, not in the session: a demoted, disabled or deleted user loses what
// they had at once, and every change of role, password or state ends their sessions and closes their
// sockets (4001) — ASVS 7.4.3, 7.4.5, 8.3.x.
describe.each(backends)('authority from the database on $name', (backend) => {
  let t: TestApp
  let wsUrl: string
  let repository: UserRepository
  beforeAll(async () => {
    t = await startTestApp(backend)
    wsUrl = `${(await t.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')}/ws`
    repository = new UserRepository(t.app.db)
  })
  afterAll(() => t?.close())

  const login = (email: string, password = PASSWORD) => postJson(t.app, `${USER}/auth`, { email, password })
  const account = async () => {
    const email = newEmail()
    const response = await postJson(t.app, `${USER}/register`, { email, password: PASSWORD })
    expect(response.statusCode).toBe(201)
    const token = response.json().data.access_token as string
    const me = await t.app.inject({ method: 'GET', url: `${USER}/me`, headers: bearer(token) })
    return { email, token, id: me.json().data.id as string }
  }
  const meStatus = async (token: string) =>
    (await t.app.inject({ method: 'GET', url: `${USER}/me`, headers: bearer(token) })).statusCode
  const adminCheck = async (token: string) =>
    (
      await t.app.inject({
        method: 'GET',
        url: `${USER}/admin-check`,
        headers: { cookie: `${t.config.session.cookieName}=${token}` },
      })
    ).statusCode
  /** An open socket of this session, and how long it takes to be closed with 4001 after `change`. */
  const socketClosedBy = async (token: string, change: () => Promise<unknown>) => {
    const socket = await openSocket(`${wsUrl}?token=${token}`)
    const started = Date.now()
    await change()
    const { code } = await socket.closed
    return { code, ms: Date.now() - started }
  }

  it('takes /db from a demoted admin at once, even if the session is left alone', async () => {
    const { id, token } = await account()
    await repository.update(id, { admin: true })
    expect(await adminCheck(token)).toBe(204)
    // straight in the database, as an operator might: the next check already sees it
    await repository.update(id, { admin: false })
    expect(await adminCheck(token)).toBe(401)
  })

  it('ends every session of a user whose role changes, closing their sockets with 4001', async () => {
    const { id, token } = await account()
    const closed = await socketClosedBy(token, () => t.app.users.setAdmin(id, true))
    expect(closed.code).toBe(4001)
    expect(closed.ms).toBeLessThan(1_000)
    expect(await meStatus(token)).toBe(401)
  })

  it('disables a user: sessions end, sockets close, and only someone with the password learns why', async () => {
    const { id, email, token } = await account()
    const closed = await socketClosedBy(token, () => t.app.users.setDisabled(id, true))
    expect(closed.code).toBe(4001)
    expect(await meStatus(token)).toBe(401)
    const refused = await login(email)
    expect(refused.statusCode).toBe(403)
    expect(refused.json()).toEqual({
      valid: false,
      data: 'This account is disabled; ask an administrator to enable it',
    })
    expect((await login(email, 'not-the-password')).statusCode).toBe(401)
    await t.app.users.setDisabled(id, false)
    expect((await login(email)).statusCode).toBe(200)
  })

  it('refuses a session of a user disabled behind its back (no revocation happened), HTTP and WebSocket', async () => {
    const { id, token } = await account()
    await repository.update(id, { disabled: true })
    expect(await meStatus(token)).toBe(401)
    expect(await refusedStatus(`${wsUrl}?token=${token}`)).toBe(401)
  })

  it('changes a password: every session ends, the old password stops working, the new one works', async () => {
    const { id, email, token } = await account()
    const other = (await login(email)).json().data.access_token as string
    const closed = await socketClosedBy(token, () => t.app.users.changePassword(id, 'a-new-good-password'))
    expect(closed.code).toBe(4001)
    expect([await meStatus(token), await meStatus(other)]).toEqual([401, 401])
    expect((await login(email)).statusCode).toBe(401)
    expect((await login(email, 'a-new-good-password')).statusCode).toBe(200)
  })

  it('deletes a user: sessions end, sockets close, the login is gone', async () => {
    const { id, email, token } = await account()
    const closed = await socketClosedBy(token, () => t.app.users.delete(id))
    expect(closed.code).toBe(4001)
    expect(await meStatus(token)).toBe(401)
    expect((await login(email)).statusCode).toBe(401)
    expect(await t.app.users.delete(id)).toBe(false)
  })
})
