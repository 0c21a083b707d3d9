import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { passlibHash } from '../test/passlib.ts'
import { newEmail, postJson, startTestApp, type TestApp } from '../test/test-app.ts'
import { UserRepository } from '../users/user-repository.ts'

const AUTH = '/api/v1.0/user/auth'

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

describe.each(backends)('passwords at login on $name', (backend) => {
  let t: TestApp
  let users: UserRepository
  beforeAll(async () => {
    t = await startTestApp(backend, {
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
      LOGIN_MAX_FAILURES_PER_CLIENT: '1000',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '1000',
    })
    users = new UserRepository(t.app.db)
  })
  afterAll(() => t?.close())

  it('logs in a user of the original with a passlib hash and re-hashes it to argon2id', async () => {
    const email = newEmail()
    const password = 'carried-over-password'
    const original = passlibHash(password)
    await users.insert({ email, passwordHash: original })

    expect((await postJson(t.app, AUTH, { email, password: 'not-it' })).statusCode).toBe(401)
    expect((await users.findByEmail(email))?.passwordHash).toBe(original)

    expect((await postJson(t.app, AUTH, { email, password })).statusCode).toBe(200)
    const upgraded = (await users.findByEmail(email))!.passwordHash
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
    expect((await postJson(t.app, AUTH, { email, password })).statusCode).toBe(200)
    expect((await users.findByEmail(email))!.passwordHash).toBe(upgraded)
  })

  it('takes as long for an unknown email as for a wrong password', async () => {
    const known = t.config.admin.email
    const time = async (email: string) => {
      const started = performance.now()
      const response = await postJson(t.app, AUTH, { email, password: 'wrong-password' })
      expect(response.statusCode).toBe(401)
      return performance.now() - started
    }
    const unknownTimes: number[] = []
    const wrongTimes: number[] = []
    for (let i = 0; i < 12; i++) {
      unknownTimes.push(await time(newEmail()))
      wrongTimes.push(await time(known))
    }
    const ratio = median(unknownTimes) / median(wrongTimes)
    // A skipped hash makes an unknown email ~20x faster (ratio ~0.05). Interleaved medians of 12 keep a
    // shared 2-core machine's noise far inside these bounds, which still catch that at once.
    expect(ratio).toBeGreaterThan(0.4)
    expect(ratio).toBeLessThan(2.5)
    // and a password over the limit is refused before any hashing
    const started = performance.now()
    const oversized = await postJson(t.app, AUTH, { email: known, password: 'é'.repeat(600) })
    expect(oversized.statusCode).toBe(400)
    expect(performance.now() - started).toBeLessThan(median(wrongTimes) / 2)
  })
})
