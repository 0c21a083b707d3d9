import { TWO_FACTOR_REQUIRED_FOR_ADMINS, type AdminUser, type AuditEvent } from '@chat/contract'
import { Secret, TOTP } from 'otpauth'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { bearer, newEmail, postJson, startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket } from '../test/ws-client.ts'

const PASSWORD = 'a-good-password'

describe.each(backends)('the admin console API on $name', (backend) => {
  let t: TestApp
  let adminToken: string
  beforeAll(async () => {
    t = await startTestApp(backend)
    const { email, password } = t.config.admin
    adminToken = (await postJson(t.app, '/api/v1.0/user/auth', { email, password })).json().data.access_token
  })
  afterAll(() => t?.close())

  const register = async (email = newEmail()) => {
    const response = await postJson(t.app, '/api/v1.0/user/register', { email, password: PASSWORD })
    return { email, token: response.json().data.access_token as string }
  }
  const get = (url: string, token = adminToken) =>
    t.app.inject({ method: 'GET', url: `/api/v1.0/admin${url}`, headers: bearer(token) })
  const act = (id: string, action: string, token = adminToken) =>
    t.app.inject({ method: 'POST', url: `/api/v1.0/admin/users/${id}/${action}`, headers: bearer(token) })
  const findUser = async (email: string) =>
    ((await get(`/users?q=${encodeURIComponent(email)}`)).json().data.users as AdminUser[])[0]!
  const login = (email: string) => postJson(t.app, '/api/v1.0/user/auth', { email, password: PASSWORD })

  it('is for admins only: 401 without a session, 403 for a user', async () => {
    const { token } = await register()
    expect((await t.app.inject({ method: 'GET', url: '/api/v1.0/admin/users' })).statusCode).toBe(401)
    for (const url of ['/users', '/audit', '/settings']) {
      const refused = await get(url, token)
      expect(refused.statusCode).toBe(403)
      expect(refused.json()).toEqual({ valid: false, data: 'Only an admin may do this' })
    }
    expect((await act('1', 'promote', token)).statusCode).toBe(403)
  })

  it('searches users by email a page at a time, with their state and last login', async () => {
    const tag = crypto.randomUUID().slice(0, 8)
    for (const name of ['carol', 'alice', 'bob']) await register(`${name}-${tag}@example.com`)
    await login(`bob-${tag}@example.com`)
    const first = (await get(`/users?q=${tag.toUpperCase()}&limit=2`)).json().data
    expect(first.total).toBe(3)
    expect(first.users.map((user: AdminUser) => user.email)).toEqual([
      `alice-${tag}@example.com`,
      `bob-${tag}@example.com`,
    ])
    expect(first.users[0]).toMatchObject({
      admin: false,
      disabled: false,
      two_factor: false,
      confirmed: false,
    })
    expect(first.users[1].last_login).not.toBeNull()
    const second = (await get(`/users?q=${tag}&limit=2&offset=2`)).json().data
    expect(second.users.map((user: AdminUser) => user.email)).toEqual([`carol-${tag}@example.com`])
    expect((await get('/users?q=%25')).json().data.total).toBe(0) // % is a character, not a wildcard
    expect((await get('/users?limit=101')).statusCode).toBe(400)
  })

  it('disables a user (their sockets close with 4001, their logins are refused) and enables them again', async () => {
    const { email, token } = await register()
    const url = `${(await t.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')}/ws`
    const socket = await openSocket(url, ['chat.v1', `bearer.${token}`])
    const user = await findUser(email)
    expect((await act(user.id, 'disable')).json()).toEqual({ valid: true, data: 'Done.' })
    expect((await socket.closed).code).toBe(4001)
    expect((await login(email)).statusCode).toBe(403)
    expect((await findUser(email)).disabled).toBe(true)
    await act(user.id, 'enable')
    expect((await login(email)).statusCode).toBe(200)
  })

  it('promotes, demotes and logs out a user, but never acts against itself, and audits each action', async () => {
    const { email, token } = await register()
    const user = await findUser(email)
    await act(user.id, 'promote')
    expect((await get('/users', token)).statusCode).toBe(401) // promoting ended their sessions
    const promoted = (await login(email)).json().data.access_token as string
    expect((await get('/users', promoted)).statusCode).toBe(200)
    await act(user.id, 'demote')
    const again = (await login(email)).json().data.access_token as string
    expect((await get('/users', again)).statusCode).toBe(403)
    await act(user.id, 'logout')
    const me = await t.app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(again) })
    expect(me.statusCode).toBe(401)

    const self = await findUser(t.config.admin.email)
    for (const action of ['disable', 'demote']) {
      const refused = await act(self.id, action)
      expect(refused.statusCode).toBe(409)
      expect(refused.json().data).toBe('You cannot do that to your own account; ask another admin')
    }
    expect((await act('999999999', 'disable')).statusCode).toBe(404)
    expect((await act(user.id, 'explode')).statusCode).toBe(400)

    const audit = (await get(`/audit?user_id=${user.id}`)).json().data as AuditEvent[]
    const adminActions = audit.filter((entry) => entry.event.startsWith('admin_'))
    expect(adminActions.map((entry) => entry.event)).toEqual([
      'admin_logged_out_user',
      'admin_demoted_user',
      'admin_promoted_user',
    ])
    for (const entry of adminActions) {
      expect(entry.actor).toEqual({ id: self.id, email: t.config.admin.email })
      expect(entry.target).toEqual({ id: user.id, email })
      expect(entry.address).toBe('127.0.0.1')
    }
  })

  it('keeps failed logins in the audit log, filtered by event and paged back', async () => {
    const { email } = await register()
    await postJson(t.app, '/api/v1.0/user/auth', { email, password: 'a-wrong-password' })
    await postJson(t.app, '/api/v1.0/user/auth', { email: `nobody-${email}`, password: 'whatever-it-is' })
    const failed = (await get('/audit?event=login_failed&limit=2')).json().data as AuditEvent[]
    expect(failed.map((entry) => [entry.target?.email, entry.detail])).toEqual([
      [`nobody-${email}`, 'no such account'],
      [email, 'wrong password'],
    ])
    const older = (await get(`/audit?event=login_failed&before=${failed[1]!.id}`)).json().data as AuditEvent[]
    for (const entry of older) expect(Number(entry.id)).toBeLessThan(Number(failed[1]!.id))
  })

  it('requires two-factor authentication of admins once an admin with it on says so', async () => {
    const { email } = await register()
    const user = await findUser(email)
    await act(user.id, 'promote')
    const token = (await login(email)).json().data.access_token as string
    const refused = await t.app.inject({
      method: 'PUT',
      url: '/api/v1.0/admin/settings',
      headers: bearer(token),
      payload: { require_two_factor_for_admins: true },
    })
    expect(refused.statusCode).toBe(409)

    const { secret } = (
      await postJson(t.app, '/api/v1.0/user/2fa/setup', { password: PASSWORD }, bearer(token))
    ).json().data
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate()
    await postJson(t.app, '/api/v1.0/user/2fa/enable', { code }, bearer(token))
    const required = await t.app.inject({
      method: 'PUT',
      url: '/api/v1.0/admin/settings',
      headers: bearer(token),
      payload: { require_two_factor_for_admins: true },
    })
    expect(required.json()).toEqual({ valid: true, data: { require_two_factor_for_admins: true } })

    // the admin without 2FA is held out of the console and Adminer, saying why
    const held = await get('/users')
    expect(held.statusCode).toBe(403)
    expect(held.json().data).toBe(TWO_FACTOR_REQUIRED_FOR_ADMINS)
    const adminer = await t.app.inject({
      method: 'GET',
      url: '/api/v1.0/user/admin-check',
      headers: bearer(adminToken),
    })
    expect(adminer.statusCode).toBe(403)
    expect((await get('/users', token)).statusCode).toBe(200)

    // the admin with 2FA turns the requirement off again
    await t.app.inject({
      method: 'PUT',
      url: '/api/v1.0/admin/settings',
      headers: bearer(token),
      payload: { require_two_factor_for_admins: false },
    })
    expect((await get('/users')).statusCode).toBe(200)
  })
})
