import { randomBytes } from 'node:crypto'
import argon2 from 'argon2'
import { PASSWORD_MAX_BYTES } from '@chat/contract'
import { describe, expect, it } from 'vitest'
import { ab64Encode, passlibHash } from '../test/passlib.ts'
import { ab64Decode, ARGON2_OPTIONS, hashPassword, verifyPassword } from './password-hasher.ts'

const PASSWORD = 'correct horse battery staple'

/** The cost parameters of a `$argon2id$v=19$m=…,t=…,p=…$…` hash, in whatever order they are written. */
function argon2idParams(hash: string): Record<string, number> {
  const match = /^\$argon2id\$v=19\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/.exec(hash)
  if (!match) throw new Error(`not an argon2id v19 hash: ${hash}`)
  return Object.fromEntries(
    match[1]!.split(',').map((pair) => {
      const [name, value] = pair.split('=')
      return [name!, Number(value)]
    }),
  )
}

describe('hashPassword', () => {
  it('makes an argon2id hash at least as strong as OWASP asks: m=19456, t=2, p=1', async () => {
    const params = argon2idParams(await hashPassword(PASSWORD))
    expect(Object.keys(params).sort()).toEqual(['m', 'p', 't'])
    expect(params.m).toBeGreaterThanOrEqual(19_456)
    expect(params.t).toBeGreaterThanOrEqual(2)
    expect(params.p).toBeGreaterThanOrEqual(1)
  })

  it('salts every hash: the same password hashes differently twice', async () => {
    expect(await hashPassword(PASSWORD)).not.toBe(await hashPassword(PASSWORD))
  })
})

describe('verifyPassword', () => {
  it('accepts the right password of a current hash, which needs no rehash', async () => {
    const hash = await hashPassword(PASSWORD)
    expect(await verifyPassword(hash, PASSWORD)).toEqual({ valid: true, needsRehash: false })
  })

  it('refuses a wrong password', async () => {
    const hash = await hashPassword(PASSWORD)
    expect((await verifyPassword(hash, `${PASSWORD}!`)).valid).toBe(false)
    expect((await verifyPassword(hash, '')).valid).toBe(false)
  })

  it("accepts the original's passlib pbkdf2-sha256 hash and asks for a rehash", async () => {
    const hash = passlibHash(PASSWORD)
    expect(hash).toMatch(/^\$pbkdf2-sha256\$29000\$[A-Za-z0-9./]{22}\$[A-Za-z0-9./]{43}$/)
    expect(await verifyPassword(hash, PASSWORD)).toEqual({ valid: true, needsRehash: true })
  })

  it('refuses a wrong password against a passlib hash', async () => {
    const hash = passlibHash(PASSWORD)
    expect((await verifyPassword(hash, 'correct horse battery stapl')).valid).toBe(false)
  })

  it('reads a passlib salt or digest whose base64 holds + (written as .)', async () => {
    // 0xfb 0xef 0xbe is "++++" in base64: "...." in ab64
    const salt = Buffer.concat([Buffer.from([0xfb, 0xef, 0xbe]), randomBytes(13)])
    const hash = passlibHash(PASSWORD, 1_000, salt)
    expect(hash.split('$')[3]!.startsWith('....')).toBe(true)
    expect((await verifyPassword(hash, PASSWORD)).valid).toBe(true)
  })

  it('refuses a passlib hash whose rounds were changed', async () => {
    const hash = passlibHash(PASSWORD, 29_000)
    expect((await verifyPassword(hash.replace('$29000$', '$29001$'), PASSWORD)).valid).toBe(false)
  })

  it.each([
    ['garbage', 'garbage'],
    ['an empty string', ''],
    ['a bare prefix', '$pbkdf2-sha256$'],
    ['rounds that are not a number', '$pbkdf2-sha256$many$c2FsdHNhbHRzYWx0c2FsdA$ZGlnZXN0'],
    ['zero rounds', '$pbkdf2-sha256$0$c2FsdHNhbHRzYWx0c2FsdA$ZGlnZXN0'],
    ['negative rounds', '$pbkdf2-sha256$-5$c2FsdHNhbHRzYWx0c2FsdA$ZGlnZXN0'],
    ['fractional rounds', '$pbkdf2-sha256$1.5$c2FsdHNhbHRzYWx0c2FsdA$ZGlnZXN0'],
    ['no salt', '$pbkdf2-sha256$29000$$ZGlnZXN0'],
    ['an empty digest', '$pbkdf2-sha256$29000$c2FsdHNhbHRzYWx0c2FsdA$'],
    ['a digest of no base64 at all', '$pbkdf2-sha256$29000$c2FsdHNhbHRzYWx0c2FsdA$!!!!'],
    ['an argon2id hash with no salt or digest', '$argon2id$v=19$m=19456,t=2,p=1$'],
    ['an unknown scheme', '$bcrypt$2b$12$abcdefghijklmnopqrstuv'],
  ])('answers valid: false for %s, without throwing', async (_, stored) => {
    await expect(verifyPassword(stored, PASSWORD)).resolves.toMatchObject({ valid: false })
  })

  it('answers valid: false for a truncated argon2id hash of the right password', async () => {
    const hash = await hashPassword(PASSWORD)
    await expect(verifyPassword(hash.slice(0, -10), PASSWORD)).resolves.toEqual({
      valid: false,
      needsRehash: false,
    })
  })

  it(`refuses a password over ${PASSWORD_MAX_BYTES} bytes, even the right one, but takes one of exactly that`, async () => {
    const atLimit = 'é'.repeat(PASSWORD_MAX_BYTES / 2)
    const overLimit = `${atLimit}x`
    expect(Buffer.byteLength(overLimit)).toBe(PASSWORD_MAX_BYTES + 1)
    expect(await verifyPassword(await hashPassword(overLimit), overLimit)).toEqual({
      valid: false,
      needsRehash: false,
    })
    expect((await verifyPassword(await hashPassword(atLimit), atLimit)).valid).toBe(true)
    expect((await verifyPassword(passlibHash(overLimit, 1_000), overLimit)).valid).toBe(false)
  })

  it('asks for a rehash of an argon2id hash weaker than the current parameters', async () => {
    const weak = await argon2.hash(PASSWORD, { ...ARGON2_OPTIONS, timeCost: 1 })
    expect(argon2idParams(weak).t).toBe(1)
    expect(await verifyPassword(weak, PASSWORD)).toEqual({ valid: true, needsRehash: true })
    expect(await verifyPassword(weak, 'wrong password')).toEqual({ valid: false, needsRehash: false })
  })
})

describe('verifyPassword, with hashes it should not trust', () => {
  it('keeps an argon2id hash stronger than the policy, and re-hashes another argon2 type', async () => {
    const strong = await argon2.hash(PASSWORD, { ...ARGON2_OPTIONS, memoryCost: 32_768, timeCost: 3 })
    expect(await verifyPassword(strong, PASSWORD)).toEqual({ valid: true, needsRehash: false })
    const argon2i = await argon2.hash(PASSWORD, { ...ARGON2_OPTIONS, type: argon2.argon2i })
    expect(await verifyPassword(argon2i, PASSWORD)).toEqual({ valid: true, needsRehash: true })
  })

  it('refuses, without throwing or spinning, a passlib hash with absurd rounds', async () => {
    const hash = passlibHash(PASSWORD, 1_000).replace('$1000$', '$99999999999$')
    expect(await verifyPassword(hash, PASSWORD)).toEqual({ valid: false, needsRehash: true })
  })
})

describe('ab64Decode', () => {
  it.each([
    ['....', [0xfb, 0xef, 0xbe]],
    ['././', [0xfb, 0xff, 0xbf]],
    ['TWE', [0x4d, 0x61]],
    ['TWFu', [0x4d, 0x61, 0x6e]],
    ['', []],
  ])('decodes %j', (text, bytes) => {
    expect([...ab64Decode(text)]).toEqual(bytes)
  })

  it('undoes the encoding of random bytes', () => {
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(1 + (i % 40))
      expect(ab64Decode(ab64Encode(bytes)).equals(bytes)).toBe(true)
    }
  })
})
