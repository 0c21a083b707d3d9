import { Type, type Static } from 'typebox'
import { EMAIL_MAX_LENGTH, PASSWORD_MAX_BYTES, REGISTER_PASSWORD_MIN_LENGTH } from './credentials.ts'

/** A token mailed in a link: 256 bits, base64url. */
const MailedToken = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })

/** `POST /api/v1.0/user/password-reset`: asks for a reset link. */
export const PasswordResetRequestSchema = Type.Object({
  email: Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH }),
})
export type PasswordResetRequest = Static<typeof PasswordResetRequestSchema>

/** `POST /api/v1.0/user/password-reset/confirm`: the link's token and the new password. */
export const PasswordResetSchema = Type.Object({
  token: MailedToken,
  password: Type.String({ minLength: REGISTER_PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_BYTES }),
})
export type PasswordReset = Static<typeof PasswordResetSchema>

/** The `data` of an answer that only tells the person something. */
export const NoticeSchema = Type.String()

/** The SPA's page a reset link opens; the token rides in the fragment, which no server or log sees. */
export const RESET_PASSWORD_PATH = '/app/reset-password'
