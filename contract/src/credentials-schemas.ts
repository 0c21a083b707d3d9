import { Type, type Static } from 'typebox'
import {
  DISPLAY_NAME_MAX_LENGTH,
  EMAIL_MAX_LENGTH,
  LOGIN_PASSWORD_MIN_LENGTH,
  PASSWORD_MAX_BYTES,
  REGISTER_PASSWORD_MIN_LENGTH,
} from './credentials.ts'

// The request schemas of the login and register routes, apart from the field rules (credentials.ts) so that
// the SPA's login page, which needs only the rules, does not load the schema library.
const credentials = (passwordMinLength: number) =>
  Type.Object({
    email: Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH }),
    password: Type.String({ minLength: passwordMinLength, maxLength: PASSWORD_MAX_BYTES }),
  })

/** A display name as sent; the server trims it and says what is wrong (displayNameProblems). */
export const DisplayNameSchema = Type.String({ maxLength: DISPLAY_NAME_MAX_LENGTH * 4 })

export const LoginRequestSchema = credentials(LOGIN_PASSWORD_MIN_LENGTH)
export const RegisterRequestSchema = Type.Object({
  ...credentials(REGISTER_PASSWORD_MIN_LENGTH).properties,
  /** optional for clients older than display names: they get the email's local part */
  display_name: Type.Optional(DisplayNameSchema),
})
export type Credentials = Static<typeof LoginRequestSchema>
export type Registration = Static<typeof RegisterRequestSchema>

/** `PATCH /api/v1.0/user/profile`. */
export const ProfileChangeSchema = Type.Object({ display_name: DisplayNameSchema })
