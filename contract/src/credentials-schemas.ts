import { Type, type Static } from 'typebox'
import {
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

export const LoginRequestSchema = credentials(LOGIN_PASSWORD_MIN_LENGTH)
export const RegisterRequestSchema = credentials(REGISTER_PASSWORD_MIN_LENGTH)
export type Credentials = Static<typeof LoginRequestSchema>
