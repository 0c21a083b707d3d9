import {
  fieldMessages,
  PASSWORD_MAX_BYTES,
  passwordContainsEmailName,
  utf8Length,
  WRONG_CURRENT_PASSWORD,
} from '@chat/contract'
import { invalidFields } from '../http/api-error.ts'
import { verifyPassword } from './password-hasher.ts'

/**
 * zxcvbn-ts's list of common passwords (49,233 of them, from password leaks; MIT, maintained at
 * github.com/zxcvbn-ts/zxcvbn), loaded on the first registration so a process that never registers
 * anyone never pays for it. Compared without case: `Password` is as guessable as `password`.
 */
let commonPasswords: Promise<Set<string>> | undefined
const loadCommonPasswords = async () => {
  const { dictionary } = await import('@zxcvbn-ts/language-common')
  return new Set(dictionary['passwords-common'].map((password) => password.toLowerCase()))
}

export async function isCommonPassword(password: string): Promise<boolean> {
  commonPasswords ??= loadCommonPasswords()
  return (await commonPasswords).has(password.toLowerCase())
}

/**
 * What is wrong with a new password beyond its length: one of the most common (ASVS 6.2.4), or built
 * from the account's own email (ASVS 6.2.11). Length is the schema's; any characters are allowed.
 */
export async function newPasswordProblems(email: string, password: string): Promise<string[]> {
  const problems: string[] = []
  if (await isCommonPassword(password)) problems.push(fieldMessages.commonPassword)
  if (passwordContainsEmailName(email, password)) problems.push(fieldMessages.containsEmailName)
  return problems
}

// The schema bounds characters; a multi-byte password can still pass it and be over the byte limit.
export function refuseOversizedPassword(password: string): void {
  if (utf8Length(password) > PASSWORD_MAX_BYTES) {
    throw invalidFields({ password: [fieldMessages.maxBytes(PASSWORD_MAX_BYTES)] })
  }
}

/** The password asked again before a sensitive change (ASVS 5.0 V6.2.3): a 400 on `password` unless it is right. */
export async function requireCurrentPassword(passwordHash: string, password: string): Promise<void> {
  if (!(await verifyPassword(passwordHash, password)).valid)
    throw invalidFields({ password: [WRONG_CURRENT_PASSWORD] })
}
