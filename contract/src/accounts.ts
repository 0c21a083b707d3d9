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

/** The SPA's pages mailed links open; the token rides in the fragment, which no server or log sees. */
export const RESET_PASSWORD_PATH = '/app/reset-password'
export const VERIFY_EMAIL_PATH = '/app/verify-email'
export const FORGOT_PASSWORD_PATH = '/app/forgot-password'
export const CONFIRM_EMAIL_PATH = '/app/confirm-email'

/** `POST /api/v1.0/user/verify-email` and `…/email/confirm`: the token of a mailed link. */
export const MailedTokenSchema = Type.Object({ token: MailedToken })

/** The answer to a confirmed address: logged in (with the token) unless a second factor is on. */
export const EmailConfirmedSchema = Type.Object({
  confirmed: Type.Literal(true),
  access_token: Type.Optional(Type.String()),
})

/** `POST /api/v1.0/user/verify-email/resend`: the same answer whatever the address. */
export const VerificationResendSchema = Type.Object({
  email: Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH }),
})

/** `POST /api/v1.0/user/email`: a new address (confirmed by a link mailed to it), and the password. */
export const EmailChangeSchema = Type.Object({
  new_email: Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH }),
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_BYTES }),
})

/** The answer to a registration where the address must be confirmed first (new or taken alike). */
export const REGISTRATION_MAILED =
  'Check your inbox: we sent a link to confirm your address. Open it within 24 hours to finish creating your account.'
export const VERIFICATION_RESENT =
  'If an account waits for that address to be confirmed, a new link is on its way. It works for 24 hours.'
export const EMAIL_CHANGE_MAILED =
  'If that address can be used, a link to confirm it is on its way to it. Your address changes once you open it.'
export const EMAIL_CHANGED = 'Your email address is changed.'

/** One of the logged-in user's sessions (`GET /api/v1.0/user/sessions`). */
export const SessionInfoSchema = Type.Object({
  id: Type.String({ description: 'names the session; cannot be used to log in' }),
  device: Type.String({ description: 'browser and system, from the user agent' }),
  user_agent: Type.String(),
  address: Type.String({ description: 'the client address it logged in from' }),
  created_on: Type.String({ format: 'date-time' }),
  last_used: Type.String({ format: 'date-time' }),
  expires: Type.String({ format: 'date-time', description: 'its absolute end' }),
  current: Type.Boolean({ description: 'the session of this request' }),
})
export type SessionInfo = Static<typeof SessionInfoSchema>

export const SessionIdParamsSchema = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }) })

/** `POST /api/v1.0/user/password`: a logged-in user changes their password. */
export const PasswordChangeSchema = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_BYTES }),
  new_password: Type.String({ minLength: REGISTER_PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_BYTES }),
  /** ASVS 5.0 V7.4.3: the user may end every other session at the same time */
  end_other_sessions: Type.Boolean(),
})
export type PasswordChange = Static<typeof PasswordChangeSchema>

export const WRONG_CURRENT_PASSWORD = 'That is not your current password.'

/** The 401 of a login whose password was right, for an account with two-factor authentication on. */
export const SECOND_FACTOR_NEEDED =
  'Enter the 6-digit code from your authenticator app (or one of your recovery codes) to finish logging in.'

/** A login's 401: with `second_factor_token` when only the second factor is missing. */
export const LoginRefusedSchema = Type.Object({
  valid: Type.Literal(false),
  data: Type.String(),
  second_factor_token: Type.Optional(
    Type.String({ description: 'send it with the code to /api/v1.0/user/auth/second-factor (5 minutes)' }),
  ),
})

/** A code from an authenticator app (6 digits) or a recovery code (xxxxx-xxxxx). */
const SecondFactorCode = Type.String({
  minLength: 6,
  maxLength: 11,
  pattern: '^(\\d{6}|[A-Za-z0-9]{5}-?[A-Za-z0-9]{5})$',
})

/** `POST /api/v1.0/user/auth/second-factor`: finishes a login. */
export const SecondFactorLoginSchema = Type.Object({ token: MailedToken, code: SecondFactorCode })

/** `POST /api/v1.0/user/2fa/setup`: the password again, before a new secret is made. */
export const TwoFactorSetupRequestSchema = Type.Object({
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_BYTES }),
})
export const TwoFactorSetupSchema = Type.Object({
  secret: Type.String({ description: 'base32, for typing into an app by hand' }),
  otpauth_uri: Type.String({ description: 'otpauth://totp/…, for a QR code' }),
})

/** `POST /api/v1.0/user/2fa/enable` and `…/recovery-codes`: a current code. */
export const TwoFactorCodeSchema = Type.Object({ code: SecondFactorCode })
export const RecoveryCodesSchema = Type.Object({
  recovery_codes: Type.Array(Type.String(), { description: 'shown once: each logs in once without the app' }),
})

/** `POST /api/v1.0/user/2fa/disable`: the password and a current code. */
export const TwoFactorDisableSchema = Type.Object({
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_BYTES }),
  code: SecondFactorCode,
})

export const TwoFactorStatusSchema = Type.Object({
  enabled: Type.Boolean(),
  recovery_codes_left: Type.Integer({ minimum: 0 }),
})

export const WRONG_CODE =
  'That code is not right: use the newest code your app shows, or an unused recovery code.'

/** Every kind of entry in the audit log. */
export const AUDIT_EVENTS = [
  'registered',
  'login_succeeded',
  'login_failed',
  'login_throttled',
  'second_factor_failed',
  'logged_out',
  'logged_out_everywhere',
  'session_ended',
  'password_reset_requested',
  'password_reset',
  'password_changed',
  'two_factor_enabled',
  'two_factor_disabled',
  'recovery_codes_renewed',
  'account_deleted',
  'email_verified',
  'email_changed',
  'admin_disabled_user',
  'admin_enabled_user',
  'admin_promoted_user',
  'admin_demoted_user',
  'admin_logged_out_user',
  'admin_deleted_user',
  'admin_changed_settings',
] as const
export type AuditEventName = (typeof AUDIT_EVENTS)[number]

/** One entry of the audit log (`GET /api/v1.0/admin/audit`). */
export const AuditEventSchema = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  event: Type.Enum(AUDIT_EVENTS),
  actor: Type.Union([Type.Object({ id: Type.String(), email: Type.String() }), Type.Null()]),
  target: Type.Union([
    Type.Object({ id: Type.Union([Type.String(), Type.Null()]), email: Type.String() }),
    Type.Null(),
  ]),
  address: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
})
export type AuditEvent = Static<typeof AuditEventSchema>

/** `POST /api/v1.0/user/delete-account`: the password, and a code when two-factor authentication is on. */
export const AccountDeletionSchema = Type.Object({
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_BYTES }),
  code: Type.Optional(SecondFactorCode),
})
export type AccountDeletion = Static<typeof AccountDeletionSchema>

export const ACCOUNT_DELETED = 'Your account is deleted. Your messages stay, shown as from a deleted user.'
