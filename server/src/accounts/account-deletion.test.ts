import { ACCOUNT_DELETED, WRONG_CURRENT_PASSWORD, type AdminUser, type ChatMessage } from '@chat/contract'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { bearer, newEmail, postJson, startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket, type TestSocket } from '../test/ws-client.ts'

const PASSWORD = 'a-good-password'

describe.each(backends)('deleting an account on $name', (backend) => {
  let t: TestApp
  let wsUrl: string
  let adminToken: string
  beforeAll(async () => {
    t = await startTestApp(backend)
    wsUrl = `${(await t.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')}/ws`
    const { email, password } = t.config.admin
    adminToken = (await postJson(t.app, '/api/v1.0/user/auth', { email, password })).json().data.access_token
  })
  afterAll(() => t?.close())

  const register = async () => {
    const email = newEmail()
    const response = await postJson(t.app, '/api/v1.0/user/register', { email, password: PASSWORD })
    return { email, token: response.json().data.access_token as string }
  }
  const chat = (token: string) => openSocket(wsUrl, ['chat.v1', `bearer.${token}`])
  const send = async (socket: TestSocket, text: string) => {
    socket.socket.send(JSON.stringify({ type: 'join', room: 'general' }))
    await socket.nextOfType('joined')
    socket.socket.send(JSON.stringify({ type: 'send', room: 'general', clientId: crypto.randomUUID(), text }))
    return socket.nextOfType<{ id: string; seq: number }>('ack')
  }
  /** The general room's message of that id, as a member sees it in history. */
  const historyEntry = async (id: string) => {
    const reader = await chat((await register()).token)
    reader.socket.send(JSON.stringify({ type: 'join', room: 'general', since: 0 }))
    await reader.nextOfType('joined')
    const pages = reader.received
      .map((frame) => JSON.parse(frame) as { type: string; messages?: ChatMessage[] })
      .filter((frame) => frame.type === 'history')
    reader.socket.terminate()
    return pages.flatMap((page) => page.messages!).find((message) => message.id === id)
  }

  it('takes the password, ends the sessions, frees the email, and keeps the messages under a deleted user', async () => {
    const { email, token } = await register()
    const socket = await chat(token)
    const ack = await send(socket, 'I was here')
    const wrong = await postJson(
      t.app,
      '/api/v1.0/user/delete-account',
      { password: 'not-it' },
      bearer(token),
    )
    expect(wrong.json()).toEqual({ valid: false, data: { password: [WRONG_CURRENT_PASSWORD] } })

    const deleted = await postJson(
      t.app,
      '/api/v1.0/user/delete-account',
      { password: PASSWORD },
      bearer(token),
    )
    expect(deleted.json()).toEqual({ valid: true, data: ACCOUNT_DELETED })
    expect((await socket.closed).code).toBe(4001)
    expect((await postJson(t.app, '/api/v1.0/user/auth', { email, password: PASSWORD })).statusCode).toBe(401)
    const entry = await historyEntry(ack.id)
    expect(entry?.text).toBe('I was here')
    expect(entry?.author).toMatchObject({ name: 'Deleted user', verified: false })
    // nothing personal is left in the row, and the address can register again
    const row = await t.app.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', entry!.author.id)
      .executeTakeFirstOrThrow()
    expect(JSON.stringify(row)).not.toContain(email)
    expect((await postJson(t.app, '/api/v1.0/user/register', { email, password: PASSWORD })).statusCode).toBe(
      201,
    )
  })

  it('is done by an admin too, audited, and the user disappears from the console', async () => {
    const { email, token } = await register()
    const users = await t.app.inject({
      method: 'GET',
      url: `/api/v1.0/admin/users?q=${encodeURIComponent(email)}`,
      headers: bearer(adminToken),
    })
    const id = (users.json().data.users as AdminUser[])[0]!.id
    const remove = () =>
      t.app.inject({ method: 'DELETE', url: `/api/v1.0/admin/users/${id}`, headers: bearer(adminToken) })
    expect((await remove()).json()).toEqual({ valid: true, data: 'Deleted.' })
    expect((await remove()).statusCode).toBe(404)
    const me = await t.app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(token) })
    expect(me.statusCode).toBe(401)
    const after = await t.app.inject({
      method: 'GET',
      url: `/api/v1.0/admin/users?q=${encodeURIComponent(email)}`,
      headers: bearer(adminToken),
    })
    expect(after.json().data.total).toBe(0)
    const audit = await t.app.inject({
      method: 'GET',
      url: `/api/v1.0/admin/audit?event=admin_deleted_user&user_id=${id}`,
      headers: bearer(adminToken),
    })
    expect(audit.json().data[0]).toMatchObject({ target: { id, email } })
  })
})
