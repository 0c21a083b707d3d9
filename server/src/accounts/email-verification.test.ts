import {
  EMAIL_CHANGE_MAILED,
  EMAIL_CHANGED,
  REGISTRATION_MAILED,
  VERIFICATION_RESENT,
  WRONG_CURRENT_PASSWORD,
} from '@chat/contract'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WRONG_CREDENTIALS } from '../auth/auth-errors.ts'
import { backends } from '../test/backends.ts'
import { startMailCatcher, type MailCatcher } from '../test/mail-catcher.ts'
import { bearer, newEmail, postJson, sleep, startTestApp, type TestApp } from '../test/test-app.ts'

const PUBLIC_URL = 'https://chat.example.com'
const PASSWORD = 'a-good-password'

/** The token of the link to `path` in a mail's text. */
function linkToken(text: string, path: string): string {
  const match = new RegExp(`https://chat\\.example\\.com${path}#token=([A-Za-z0-9_-]{43})`).exec(text)
  if (!match) throw new Error(`no ${path} link in:\n${text}`)
  return match[1]!
}

describe.each(backends)(
  'email addresses proven by mail (EMAIL_VERIFICATION=required) on $name',
  (backend) => {
    let t: TestApp
    let mail: MailCatcher
    beforeAll(async () => {
      mail = await startMailCatcher()
      // required is the default once SMTP_URL is set
      t = await startTestApp(backend, { SMTP_URL: mail.url, PUBLIC_URL })
    })
    afterAll(async () => {
      await t?.close()
      await mail?.close()
    })

    const post = (url: string, body: unknown, token?: string) =>
      postJson(t.app, `/api/v1.0/user${url}`, body, token ? bearer(token) : {})
    const login = (email: string, password = PASSWORD) => post('/auth', { email, password })
    /** Registers and opens the confirmation link: a logged-in account. */
    async function confirmedAccount() {
      const email = newEmail()
      await post('/register', { email, password: PASSWORD, display_name: 'Someone' })
      const token = linkToken((await mail.next(email, /Confirm your email/)).text, '/app/verify-email')
      const confirmed = await post('/verify-email', { token })
      return { email, session: confirmed.json().data.access_token as string }
    }

    it('answers a registration with a mailed link and no session, and logs in once the link is opened', async () => {
      const email = newEmail()
      const registered = await post('/register', { email, password: PASSWORD, display_name: 'New person' })
      expect(registered.statusCode).toBe(202)
      expect(registered.json()).toEqual({ valid: true, data: REGISTRATION_MAILED })
      expect(registered.cookies).toHaveLength(0)
      // before the link: the answer of a wrong password, so a login cannot tell the address was new
      expect((await login(email)).json()).toEqual({ valid: false, data: WRONG_CREDENTIALS })

      const token = linkToken((await mail.next(email, /Confirm your email/)).text, '/app/verify-email')
      const confirmed = await post('/verify-email', { token })
      expect(confirmed.statusCode).toBe(200)
      const session = confirmed.json().data.access_token as string
      expect(confirmed.json().data.confirmed).toBe(true)
      expect(confirmed.cookies.find((cookie) => cookie.name === t.config.session.cookieName)?.value).toBe(
        session,
      )
      const me = await t.app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(session) })
      expect(me.json().data).toMatchObject({ email, display_name: 'New person', confirmed: true })
      expect((await login(email)).statusCode).toBe(200)
      expect((await post('/verify-email', { token })).statusCode).toBe(400) // used once
    })

    it('answers a taken address exactly as a new one, and tells its owner instead', async () => {
      const { email } = await confirmedAccount()
      const again = await post('/register', {
        email,
        password: 'another-password-9',
        display_name: 'Intruder',
      })
      expect(again.statusCode).toBe(202)
      expect(again.json()).toEqual({ valid: true, data: REGISTRATION_MAILED })
      const told = await mail.next(email, /Someone tried to create a Chat account/)
      expect(told.text).toContain('https://chat.example.com/app/forgot-password')
      expect((await login(email)).statusCode).toBe(200)
      expect((await login(email, 'another-password-9')).statusCode).toBe(401)
    })

    it('re-sends a link with the same answer for any address, at most 3 mails an hour per account', async () => {
      const email = newEmail()
      await post('/register', { email, password: PASSWORD })
      const unknown = await post('/verify-email/resend', { email: newEmail() })
      const known = await post('/verify-email/resend', { email })
      expect(known.statusCode).toBe(202)
      expect(known.json()).toEqual({ valid: true, data: VERIFICATION_RESENT })
      expect(unknown.json()).toEqual(known.json())
      await post('/verify-email/resend', { email })
      await post('/verify-email/resend', { email })
      for (let i = 0; i < 3; i++) await mail.next(email, /Confirm your email/)
      await sleep(300)
      expect(mail.mails.filter((m) => m.to === email)).toHaveLength(3) // registration + 2 re-sends
    })

    it('changes an address once the new one is proven, telling the old one; a taken one is answered alike', async () => {
      const { email, session } = await confirmedAccount()
      const newAddress = newEmail()
      const wrong = await post('/email', { new_email: newAddress, password: 'not-it' }, session)
      expect(wrong.json()).toEqual({ valid: false, data: { password: [WRONG_CURRENT_PASSWORD] } })
      const asked = await post('/email', { new_email: newAddress, password: PASSWORD }, session)
      expect(asked.json()).toEqual({ valid: true, data: EMAIL_CHANGE_MAILED })
      const token = linkToken(
        (await mail.next(newAddress, /Confirm your new email/)).text,
        '/app/confirm-email',
      )
      expect((await login(newAddress)).statusCode).toBe(401) // not before the link

      expect((await post('/email/confirm', { token })).json()).toEqual({ valid: true, data: EMAIL_CHANGED })
      expect((await mail.next(email, /email address was changed/)).text).toContain(newAddress)
      expect((await login(newAddress)).statusCode).toBe(200)
      expect((await login(email)).statusCode).toBe(401)
      expect((await post('/email/confirm', { token })).statusCode).toBe(400)

      const other = await confirmedAccount()
      const taken = await post('/email', { new_email: other.email, password: PASSWORD }, session)
      expect(taken.json()).toEqual(asked.json())
      await mail.next(other.email, /Someone tried/)
    })
  },
)

describe('email verification without SMTP (EMAIL_VERIFICATION=optional, the embedded default)', () => {
  it('logs in at registration, writes the link to the log, and confirms the address with it', async () => {
    const t = await startTestApp(backends.at(-1)!, { PUBLIC_URL })
    try {
      const email = newEmail()
      const registered = await postJson(t.app, '/api/v1.0/user/register', { email, password: PASSWORD })
      expect(registered.statusCode).toBe(201)
      const session = registered.json().data.access_token as string
      const me = () => t.app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(session) })
      expect((await me()).json().data.confirmed).toBe(false)
      await sleep(100)
      const line = t.logs.find((entry) => entry.includes('mail NOT sent') && entry.includes(email))!
      const token = linkToken(JSON.parse(line).msg as string, '/app/verify-email')
      expect((await postJson(t.app, '/api/v1.0/user/verify-email', { token })).statusCode).toBe(200)
      expect((await me()).json().data.confirmed).toBe(true)
      // a taken address is said plainly here: registration logs in, so it cannot be hidden anyway
      expect(
        (await postJson(t.app, '/api/v1.0/user/register', { email, password: PASSWORD })).statusCode,
      ).toBe(409)
    } finally {
      await t.close()
    }
  })
})
