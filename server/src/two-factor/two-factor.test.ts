import { SECOND_FACTOR_NEEDED, WRONG_CODE, WRONG_CURRENT_PASSWORD } from '@chat/contract'
import { Secret, TOTP } from 'otpauth'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { bearer, newEmail, postJson, startTestApp, type TestApp } from '../test/test-app.ts'

const PASSWORD = 'a-good-password'
const STEP_MS = 30_000

/** The code an authenticator app shows `stepsAhead` time steps from now. */
const codeOf = (secret: string, stepsAhead = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + stepsAhead * STEP_MS })

describe.each(backends)('two-factor authentication on $name', (backend) => {
  let t: TestApp
  beforeAll(async () => {
    t = await startTestApp(backend)
  })
  afterAll(() => t?.close())

  const post = (url: string, body: unknown, token?: string) =>
    postJson(t.app, `/api/v1.0/user${url}`, body, token ? bearer(token) : {})
  const login = (email: string, password = PASSWORD) => post('/auth', { email, password })

  /** A user with 2FA on: their email, secret and recovery codes. */
  async function userWithTwoFactor() {
    const email = newEmail()
    const token = (await post('/register', { email, password: PASSWORD })).json().data.access_token as string
    const setup = await post('/2fa/setup', { password: PASSWORD }, token)
    expect(setup.statusCode).toBe(200)
    const { secret, otpauth_uri: uri } = setup.json().data as { secret: string; otpauth_uri: string }
    expect(uri).toBe(
      `otpauth://totp/Chat:${encodeURIComponent(email)}?issuer=Chat&secret=${secret}&algorithm=SHA1&digits=6&period=30`,
    )
    const enabled = await post('/2fa/enable', { code: codeOf(secret) }, token)
    expect(enabled.statusCode).toBe(200)
    const recoveryCodes = enabled.json().data.recovery_codes as string[]
    return { email, token, secret, recoveryCodes }
  }

  it('is set up with the password and a first code, and hands out ten one-time recovery codes', async () => {
    const email = newEmail()
    const token = (await post('/register', { email, password: PASSWORD })).json().data.access_token as string
    const wrongPassword = await post('/2fa/setup', { password: 'not-it' }, token)
    expect(wrongPassword.json()).toEqual({ valid: false, data: { password: [WRONG_CURRENT_PASSWORD] } })
    const { secret } = (await post('/2fa/setup', { password: PASSWORD }, token)).json().data
    const wrongCode = await post(
      '/2fa/enable',
      { code: '000000' === codeOf(secret) ? '111111' : '000000' },
      token,
    )
    expect(wrongCode.json()).toEqual({ valid: false, data: { code: [WRONG_CODE] } })
    const status = () => t.app.inject({ method: 'GET', url: '/api/v1.0/user/2fa', headers: bearer(token) })
    expect((await status()).json().data).toEqual({ enabled: false, recovery_codes_left: 0 })

    const enabled = await post('/2fa/enable', { code: codeOf(secret) }, token)
    const codes = enabled.json().data.recovery_codes as string[]
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    for (const code of codes) expect(code).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}$/)
    expect((await status()).json().data).toEqual({ enabled: true, recovery_codes_left: 10 })
    const stored = JSON.stringify(await t.app.db.selectFrom('recovery_codes').selectAll().execute())
    for (const code of codes) expect(stored).not.toContain(code)
  })

  it('asks for a code after the right password with a 401 the original clients understand, then logs in', async () => {
    const { email, secret } = await userWithTwoFactor()
    const first = await login(email)
    expect(first.statusCode).toBe(401)
    const body = first.json()
    expect(body).toMatchObject({ valid: false, data: SECOND_FACTOR_NEEDED })
    expect(body.second_factor_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await login(email, 'a-wrong-password')).json()).toEqual({
      valid: false,
      data: 'Wrong email or password',
    })

    const done = await post('/auth/second-factor', {
      token: body.second_factor_token,
      code: codeOf(secret, 1),
    })
    expect(done.statusCode).toBe(200)
    const session = done.json().data.access_token as string
    const me = await t.app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(session) })
    expect(me.statusCode).toBe(200)
    // the half-done login is used up
    const again = await post('/auth/second-factor', {
      token: body.second_factor_token,
      code: codeOf(secret, 1),
    })
    expect(again.statusCode).toBe(401)
  })

  it('takes each code once (ASVS 5.0 V6.5.1): an app code, and each recovery code', async () => {
    const { email, secret, recoveryCodes } = await userWithTwoFactor()
    const secondFactor = async (code: string) =>
      post('/auth/second-factor', { token: (await login(email)).json().second_factor_token, code })
    expect((await secondFactor(codeOf(secret, 1))).statusCode).toBe(200)
    expect((await secondFactor(codeOf(secret, 1))).json()).toEqual({
      valid: false,
      data: { code: [WRONG_CODE] },
    })
    expect((await secondFactor(codeOf(secret))).statusCode).toBe(400) // older than one already used
    expect((await secondFactor(recoveryCodes[0]!.toUpperCase())).statusCode).toBe(200)
    expect((await secondFactor(recoveryCodes[0]!)).statusCode).toBe(400)
  })

  it('refuses the sixth wrong code in five minutes with 429, even with the right one', async () => {
    const { email, secret } = await userWithTwoFactor()
    const { second_factor_token: token } = (await login(email)).json()
    const statuses = []
    for (let i = 0; i < 5; i++)
      statuses.push((await post('/auth/second-factor', { token, code: `12345${i}` })).statusCode)
    statuses.push((await post('/auth/second-factor', { token, code: codeOf(secret, 1) })).statusCode)
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429])
  })

  it('is not turned off by a password reset (ASVS 5.0 V6.4.3), and is turned off with the password and a code', async () => {
    const { email, token, secret, recoveryCodes } = await userWithTwoFactor()
    await t.app.users.changePassword(
      (
        await t.app.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()
      ).id.toString(),
      'a-reset-passphrase',
    )
    const afterReset = await login(email, 'a-reset-passphrase')
    expect(afterReset.json().second_factor_token).toBeDefined()

    const session = (
      await post('/auth/second-factor', {
        token: afterReset.json().second_factor_token,
        code: recoveryCodes[1]!,
      })
    ).json().data.access_token as string
    expect(token).not.toBe(session)
    const refused = await post(
      '/2fa/disable',
      { password: 'a-wrong-password', code: codeOf(secret, 1) },
      session,
    )
    expect(refused.statusCode).toBe(400)
    const disabled = await post(
      '/2fa/disable',
      { password: 'a-reset-passphrase', code: codeOf(secret, 1) },
      session,
    )
    expect(disabled.json()).toEqual({ valid: true, data: { enabled: false, recovery_codes_left: 0 } })
    expect((await login(email, 'a-reset-passphrase')).statusCode).toBe(200)
  })
})
