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
    return { valid, needsRehash: valid && weakerThanPolicy(stored) }
  } catch {
    return { valid: false, needsRehash: false } // not a hash we know: nobody can log in with it
  }
}

const ARGON2ID_PARAMS = /^\$argon2id\$v=19\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/

/** A hash that is not argon2id, or has any parameter below ARGON2_OPTIONS; stronger ones are kept. */
function weakerThanPolicy(stored: string): boolean {
  const params = ARGON2ID_PARAMS.exec(stored)?.[1]
  if (!params) return true
  const value = Object.fromEntries(params.split(',').map((pair) => pair.split('=') as [string, string]))
  return (
    Number(value.m) < ARGON2_OPTIONS.memoryCost ||
    Number(value.t) < ARGON2_OPTIONS.timeCost ||
    Number(value.p) < ARGON2_OPTIONS.parallelism
  )
}

/** passlib's "ab64": standard base64 with `.` for `+` and no padding. */
export const ab64Decode = (text: string) => Buffer.from(text.replaceAll('.', '+'), 'base64')

// passlib's default is 29,000; far more would only tie up the thread pool (a planted hash as a DoS).
const MAX_PBKDF2_ROUNDS = 10_000_000

// The original's hashes: `$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 digest>`, from passlib's pbkdf2_sha256.
async function verifyPasslibPbkdf2(stored: string, password: string): Promise<boolean> {
  const [, , roundsText, saltText, digestText] = stored.split('$')
  const rounds = Number(roundsText)
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_PBKDF2_ROUNDS || !saltText || !digestText)
    return false
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
