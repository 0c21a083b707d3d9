import { pbkdf2Sync, randomBytes } from 'node:crypto'

/** passlib's "ab64": base64 with `.` for `+` and no `=` padding. */
export const ab64Encode = (bytes: Buffer) => bytes.toString('base64').replaceAll('+', '.').replace(/=+$/, '')

/** A hash as the original's passlib `pbkdf2_sha256.hash()` wrote it: 16-byte salt, 32-byte digest. */
export function passlibHash(password: string, rounds = 29_000, salt = randomBytes(16)): string {
  const digest = pbkdf2Sync(password, salt, rounds, 32, 'sha256')
  return `$pbkdf2-sha256$${rounds}$${ab64Encode(salt)}$${ab64Encode(digest)}`
}
