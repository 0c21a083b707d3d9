import { pbkdf2, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import argon2 from 'argon2'
import { PASSWORD_MAX_BYTES } from '@chat/contract'

// OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB, t=2, p=1. argon2 hashes on libuv's
// thread pool, off the event loop.
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const

const pbkdf2Async = promisify(pbkdf2)

export const hashPassword = (password: string) => argon2.hash(password, ARGON2_OPTIONS)

export interface Verification {
  valid: boolean
  /** the stored hash is passlib's or weaker than ARGON2_OPTIONS: store a new one now that we know the password */
  needsRehash: boolean
}

export async function verifyPassword(stored: string, password: string): Promise<Verification> {
  if (Buffer.byteLength(password) > PASSWORD_MAX_BYTES) return { valid: false, needsRehash: false }
  if (stored.startsWith('$pbkdf2-sha256$')) {
    return { valid: await verifyPasslibPbkdf2(stored, password), needsRehash: true }
  }
  try {
    const valid = await argon2.verify(stored, password)
    return { valid, needsRehash: valid && argon2.needsRehash(stored, ARGON2_OPTIONS) }
  } catch {
    return { valid: false, needsRehash: false } // not a hash we know: nobody can log in with it
  }
}

/** passlib's "ab64": standard base64 with `.` for `+` and no padding. */
export const ab64Decode = (text: string) => Buffer.from(text.replaceAll('.', '+'), 'base64')

// The original's hashes: `$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 digest>`, from passlib's pbkdf2_sha256.
async function verifyPasslibPbkdf2(stored: string, password: string): Promise<boolean> {
  const [, , roundsText, saltText, digestText] = stored.split('$')
  const rounds = Number(roundsText)
  if (!Number.isInteger(rounds) || rounds < 1 || !saltText || !digestText) return false
  const expected = ab64Decode(digestText)
  if (expected.length === 0) return false
  const actual = await pbkdf2Async(password, ab64Decode(saltText), rounds, expected.length, 'sha256')
  return timingSafeEqual(actual, expected)
}

let dummyHash: Promise<string> | undefined
/**
 * Verifies against a hash of a random password, so an unknown email costs the same time as a wrong password
 * (OWASP Authentication Cheat Sheet: no user enumeration through response times).
 */
export async function burnVerificationTime(password: string): Promise<void> {
  dummyHash ??= hashPassword(crypto.randomUUID())
  await verifyPassword(await dummyHash, password)
}
