import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { accountWithTwoSessions, bearer, startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket } from '../test/ws-client.ts'

const SESSIONS = '/api/v1.0/user/sessions'
const CHROME_ON_LINUX =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'
const SAFARI_ON_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'

interface Listed {
  id: string
  device: string
  address: string
  current: boolean
  created_on: string
  last_used: string
}

describe.each(backends)("a user's sessions on $name", (backend) => {
  let t: TestApp
  beforeAll(async () => {
    t = await startTestApp(backend)
  })
  afterAll(() => t?.close())

  async function userWithTwoSessions() {
    const { first: laptop, second: phone } = await accountWithTwoSessions(t.app, [
      { 'user-agent': CHROME_ON_LINUX },
      { 'user-agent': SAFARI_ON_IPHONE },
    ])
    return { laptop, phone }
  }
  const list = async (token: string) => {
    const response = await t.app.inject({ method: 'GET', url: SESSIONS, headers: bearer(token) })
    expect(response.statusCode).toBe(200)
    return response.json().data as Listed[]
  }

  it('lists each session with its device, address and times, marks this one, and never shows a token', async () => {
    const { laptop, phone } = await userWithTwoSessions()
    const response = await t.app.inject({ method: 'GET', url: SESSIONS, headers: bearer(laptop) })
    expect(response.headers['cache-control']).toBe('no-store')
    const sessions = response.json().data as Listed[]
    expect(sessions.map(({ device, address, current }) => ({ device, address, current }))).toEqual([
      { device: 'Chrome 156 on Linux', address: '127.0.0.1', current: true },
      { device: 'Safari 17 on iOS (iPhone)', address: '127.0.0.1', current: false },
    ])
    for (const session of sessions) {
      expect(Date.parse(session.last_used)).toBeGreaterThanOrEqual(Date.parse(session.created_on))
    }
    expect(response.body).not.toContain(laptop)
    expect(response.body).not.toContain(phone)
  })

  it('ends another session: its token stops working and its socket closes with 4001 within 1 s', async () => {
    const { laptop, phone } = await userWithTwoSessions()
    const url = `${(await t.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')}/ws`
    const socket = await openSocket(url, ['chat.v1', `bearer.${phone}`])
    const phoneId = (await list(laptop)).find((session) => !session.current)!.id
    const started = Date.now()
    const ended = await t.app.inject({
      method: 'DELETE',
      url: `${SESSIONS}/${phoneId}`,
      headers: bearer(laptop),
    })
    expect(ended.json()).toEqual({ valid: true, data: { sessions_ended: 1 } })
    expect((await socket.closed).code).toBe(4001)
    expect(Date.now() - started).toBeLessThan(1_000)
    const me = await t.app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(phone) })
    expect(me.statusCode).toBe(401)
    expect((await list(laptop)).map((session) => session.current)).toEqual([true])
  })

  it("cannot end another user's session, or one that is not there, and says so plainly", async () => {
    const mine = await userWithTwoSessions()
    const theirs = await userWithTwoSessions()
    const theirId = (await list(theirs.laptop))[0]!.id
    const attempt = await t.app.inject({
      method: 'DELETE',
      url: `${SESSIONS}/${theirId}`,
      headers: bearer(mine.laptop),
    })
    expect(attempt.statusCode).toBe(404)
    expect(attempt.json().data).toBe('You have no session with that id (it may have ended already)')
    expect(await list(theirs.laptop)).toHaveLength(2)
    const malformed = await t.app.inject({
      method: 'DELETE',
      url: `${SESSIONS}/nope`,
      headers: bearer(mine.laptop),
    })
    expect(malformed.statusCode).toBe(400)
    expect((await t.app.inject({ method: 'GET', url: SESSIONS })).statusCode).toBe(401)
  })
})
