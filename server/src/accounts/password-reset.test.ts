import { fieldMessages } from '@chat/contract'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { startMailCatcher, type MailCatcher } from '../test/mail-catcher.ts'
import { bearer, newEmail, postJson, sleep, startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket } from '../test/ws-client.ts'
import { RESET_REQUESTED } from './password-reset.ts'

const REQUEST = '/api/v1.0/user/password-reset'
const CONFIRM = '/api/v1.0/user/password-reset/confirm'
const PUBLIC_URL = 'https://chat.example.com'

/** The token of the reset link in a mail's text. */
function linkToken(text: string): string {
  const match = /https:\/\/chat\.example\.com\/app\/reset-password#token=([A-Za-z0-9_-]{43})/.exec(text)
  if (!match) throw new Error(`no reset link in:\n${text}`)
  return match[1]!
}

describe.each(backends)('password reset on $name, through a real SMTP server', (backend) => {
  let t: TestApp
  let mail: MailCatcher
  beforeAll(async () => {
    mail = await startMailCatcher()
    // each test asks from an address of its own (X-Forwarded-For, believed from the test's 127.0.0.1),
    // so the per-address limit counts only its own requests
    t = await startTestApp(backend, {
      SMTP_URL: mail.url,
      PUBLIC_URL,
      MAIL_FROM: 'Chat <chat@example.com>',
      TRUSTED_PROXIES: '127.0.0.1',
      EMAIL_VERIFICATION: 'optional', // these accounts log in at registration
    })
  })
  afterAll(async () => {
    await t?.close()
    await mail?.close()
  })

  const register = async () => {
    const email = newEmail()
    const response = await postJson(t.app, '/api/v1.0/user/register', { email, password: 'old-password-1' })
    return { email, token: response.json().data.access_token as string }
  }
  const login = (email: string, password: string) =>
    postJson(t.app, '/api/v1.0/user/auth', { email, password })
  let addresses = 0
  let address = ''
  beforeEach(() => {
    address = `203.0.113.${++addresses}`
  })
  const askForLink = async (email: string) => {
    const response = await postJson(t.app, REQUEST, { email }, { 'x-forwarded-for': address })
    expect(response.statusCode).toBe(202)
    return response
  }

  it('answers the same whether or not the account exists, and mails a link only to a real one', async () => {
    const { email } = await register()
    const unknown = newEmail()
    const forUnknown = await askForLink(unknown)
    const forKnown = await askForLink(email)
    expect(forUnknown.json()).toEqual({ valid: true, data: RESET_REQUESTED })
    expect(forKnown.json()).toEqual(forUnknown.json())
    const sent = await mail.next(email, /Reset your Chat password/)
    expect(sent.from).toMatch(/^"?Chat"? <chat@example\.com>$/)
    expect(linkToken(sent.text)).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(mail.mails.some((m) => m.to === unknown)).toBe(false)
  })

  it('sets the new password once, ends every session and closes their sockets with 4001', async () => {
    const { email, token: session } = await register()
    const url = `${(await t.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')}/ws`
    const socket = await openSocket(url, ['chat.v1', `bearer.${session}`])
    await askForLink(email)
    const token = linkToken((await mail.next(email, /Reset/)).text)

    const done = await postJson(t.app, CONFIRM, { token, password: 'a-brand-new-passphrase' })
    expect(done.statusCode).toBe(200)
    expect((await socket.closed).code).toBe(4001)
    const me = await t.app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(session) })
    expect(me.statusCode).toBe(401)
    expect((await login(email, 'old-password-1')).statusCode).toBe(401)
    expect((await login(email, 'a-brand-new-passphrase')).statusCode).toBe(200)

    const again = await postJson(t.app, CONFIRM, { token, password: 'yet-another-passphrase' })
    expect(again.statusCode).toBe(400)
    expect(again.json().data).toMatch(/expired or been used/)
  })

  it('refuses a weak password without using up the link, and refuses an expired or made-up link', async () => {
    const { email } = await register()
    await askForLink(email)
    const token = linkToken((await mail.next(email, /Reset/)).text)
    const weak = await postJson(t.app, CONFIRM, { token, password: 'password123' })
    expect(weak.statusCode).toBe(400)
    expect(weak.json().data).toEqual({ password: [fieldMessages.commonPassword] })

    await t.app.db
      .updateTable('account_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .execute()
    const expired = await postJson(t.app, CONFIRM, { token, password: 'a-brand-new-passphrase' })
    expect(expired.statusCode).toBe(400)
    const madeUp = await postJson(t.app, CONFIRM, {
      token: 'x'.repeat(43),
      password: 'a-brand-new-passphrase',
    })
    expect(madeUp.statusCode).toBe(400)
    expect((await login(email, 'old-password-1')).statusCode).toBe(200)
  })

  it('takes any one of several links, and then none of the others', async () => {
    const { email } = await register()
    await askForLink(email)
    await askForLink(email)
    const first = linkToken((await mail.next(email, /Reset/)).text)
    const second = linkToken((await mail.next(email, /Reset/)).text)
    expect(
      (await postJson(t.app, CONFIRM, { token: second, password: 'a-brand-new-passphrase' })).statusCode,
    ).toBe(200)
    expect(
      (await postJson(t.app, CONFIRM, { token: first, password: 'another-new-passphrase' })).statusCode,
    ).toBe(400)
  })

  it('mails one account at most 3 links an hour, answering alike, and limits one address to 10 requests', async () => {
    const { email } = await register()
    for (let i = 0; i < 4; i++) await askForLink(email)
    for (let i = 0; i < 3; i++) await mail.next(email, /Reset/)
    await sleep(300)
    expect(mail.mails.filter((m) => m.to === email && /Reset/.test(m.subject))).toHaveLength(3)
    for (let i = 0; i < 6; i++) await askForLink(newEmail())
    const refused = await postJson(t.app, REQUEST, { email: newEmail() }, { 'x-forwarded-for': address })
    expect(refused.statusCode).toBe(429)
    expect(refused.headers['retry-after']).toMatch(/^\d+$/)
    expect(refused.json().data).toMatch(/^Too many password reset requests from this address/)
    // another address is not held back by it
    expect((await postJson(t.app, REQUEST, { email: newEmail() })).statusCode).toBe(202)
  })
})

describe('password reset mail without SMTP (the embedded default)', () => {
  it('is written to the log in full, marked as not sent', async () => {
    const t = await startTestApp(backends.at(-1)!, { PUBLIC_URL })
    try {
      const email = newEmail()
      await postJson(t.app, '/api/v1.0/user/register', { email, password: 'old-password-1' })
      expect((await postJson(t.app, REQUEST, { email })).statusCode).toBe(202)
      await sleep(100)
      const line = t.logs.find(
        (entry) => entry.includes('mail NOT sent') && entry.includes('Reset your Chat password'),
      )
      expect(line).toContain(`To: ${email}`)
      expect(linkToken(JSON.parse(line!).msg as string)).toMatch(/^[A-Za-z0-9_-]{43}$/)
    } finally {
      await t.close()
    }
  })
})
