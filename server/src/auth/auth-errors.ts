import { ApiError, tooManyRequests } from '../http/api-error.ts'

export const WRONG_CREDENTIALS = 'Wrong email or password'

export const wrongCredentials = () => new ApiError(401, WRONG_CREDENTIALS)

export const notLoggedIn = () =>
  new ApiError(401, 'Not logged in, or the session has ended; log in again', { 'www-authenticate': 'Bearer' })

export const tooManyAttempts = (retryAfterSeconds: number) =>
  tooManyRequests('Too many failed logins', retryAfterSeconds)

export const accountDisabled = () =>
  new ApiError(403, 'This account is disabled; ask an administrator to enable it')

export const emailTaken = () => new ApiError(409, { email: ['An account with this email already exists.'] })
