/**
 * Field rules of the login and register forms, shared by the API (which enforces them) and the SPA
 * (which checks them before sending). Messages are marshmallow's, as the original API sent them, so an
 * old client that shows them keeps working.
 */
export const EMAIL_MAX_LENGTH = 64 // the original column: email varchar(64)
export const LOGIN_PASSWORD_MIN_LENGTH = 4 // the original rule
export const REGISTER_PASSWORD_MIN_LENGTH = 8 // NIST SP 800-63B §5.1.1.2 minimum for user-chosen secrets
/** Longer passwords are refused before hashing, so a huge body cannot buy seconds of CPU. */
export const PASSWORD_MAX_BYTES = 1024

/** The server registers this as ajv's `email` format, so both sides accept exactly the same addresses. */
export const EMAIL_PATTERN =
  /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i

export const fieldMessages = {
  required: 'Missing data for required field.',
  null: 'Field may not be null.',
  notString: 'Not a valid string.',
  email: 'Not a valid email address.',
  minLength: (min: number) => `Shorter than minimum length ${min}.`,
  maxLength: (max: number) => `Longer than maximum length ${max}.`,
  maxBytes: (max: number) => `Longer than maximum length ${max} bytes.`,
  /** marshmallow's word for a body that is not an object; it goes under the `_schema` key */
  notObject: 'Invalid input type.',
  commonPassword: 'This password is one of the most common ones; choose one others are unlikely to use.',
  containsEmailName: 'The password must not contain the name of your email address.',
} as const

/** Shown under the password field of the register form before anything is typed (ASVS 6.2.x). */
export const PASSWORD_RULE = `At least ${REGISTER_PASSWORD_MIN_LENGTH} characters, up to 1,000 (a long passphrase is best). Not one of the most common passwords, and not containing the name of your email address.`

/** The part of an email before the @, when it is long enough to matter (ASVS 6.2.11: context words). */
const EMAIL_NAME_MIN_LENGTH = 3

/** true when the password is the email's name or contains it, ignoring case. */
export function passwordContainsEmailName(email: string, password: string): boolean {
  const name = email.slice(0, email.lastIndexOf('@')).toLowerCase()
  return name.length >= EMAIL_NAME_MIN_LENGTH && password.toLowerCase().includes(name)
}

/** What others see of a user: asked at registration, editable, 1-64 characters once trimmed. */
export const DISPLAY_NAME_MAX_LENGTH = 64
/** No control characters (C0, DEL, C1): a name is one line of plain text. */
export const DISPLAY_NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f]*$'
export const displayNameMessages = {
  empty: 'Enter the name others will see.',
  tooLong: `At most ${DISPLAY_NAME_MAX_LENGTH} characters.`,
  control: 'A name cannot hold line breaks, tabs or other control characters.',
} as const

/** What is wrong with a display name (after trimming), as both sides say it. */
export function displayNameProblems(name: string): string[] {
  const trimmed = name.trim()
  if (trimmed.length === 0) return [displayNameMessages.empty]
  if ([...trimmed].length > DISPLAY_NAME_MAX_LENGTH) return [displayNameMessages.tooLong]
  if (!new RegExp(DISPLAY_NAME_PATTERN, 'u').test(trimmed)) return [displayNameMessages.control]
  return []
}

/** The name a user gets when none is given: the part of their email before the @. */
export const defaultDisplayName = (email: string) =>
  email.slice(0, email.lastIndexOf('@')).slice(0, DISPLAY_NAME_MAX_LENGTH) || 'user'

/** `{"email": ["Not a valid email address."]}`: the `data` of a 400 answer. */
export type FieldErrors = Record<string, string[]>

export type CredentialsKind = 'login' | 'register'

const passwordMinLength = (kind: CredentialsKind) =>
  kind === 'login' ? LOGIN_PASSWORD_MIN_LENGTH : REGISTER_PASSWORD_MIN_LENGTH

export const utf8Length = (text: string) => new TextEncoder().encode(text).length

function checkString(value: unknown, rules: (text: string) => string[]): string[] {
  if (value === undefined) return [fieldMessages.required]
  if (value === null) return [fieldMessages.null]
  if (typeof value !== 'string') return [fieldMessages.notString]
  return rules(value)
}

const emailRules = (email: string) => {
  if (email.length > EMAIL_MAX_LENGTH) return [fieldMessages.maxLength(EMAIL_MAX_LENGTH)]
  return EMAIL_PATTERN.test(email) ? [] : [fieldMessages.email]
}

const passwordRules = (kind: CredentialsKind) => (password: string) => {
  const min = passwordMinLength(kind)
  if (password.length < min) return [fieldMessages.minLength(min)]
  // the API's schema bounds characters first, then the service bounds bytes
  if (password.length > PASSWORD_MAX_BYTES) return [fieldMessages.maxLength(PASSWORD_MAX_BYTES)]
  if (utf8Length(password) > PASSWORD_MAX_BYTES) return [fieldMessages.maxBytes(PASSWORD_MAX_BYTES)]
  return []
}

/** The same verdict as the API's 400 answer, computed in the browser before sending. */
export function validateCredentials(body: unknown, kind: CredentialsKind): FieldErrors | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { _schema: [fieldMessages.notObject] }
  }
  const { email, password } = body as Record<string, unknown>
  const errors: FieldErrors = {}
  const emailErrors = checkString(email, emailRules)
  const passwordErrors = checkString(password, passwordRules(kind))
  if (
    kind === 'register' &&
    emailErrors.length === 0 &&
    passwordErrors.length === 0 &&
    passwordContainsEmailName(email as string, password as string)
  ) {
    passwordErrors.push(fieldMessages.containsEmailName)
  }
  if (emailErrors.length > 0) errors.email = emailErrors
  if (passwordErrors.length > 0) errors.password = passwordErrors
  return Object.keys(errors).length > 0 ? errors : undefined
}
