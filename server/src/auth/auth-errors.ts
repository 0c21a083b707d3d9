import type { FieldErrors } from '@chat/contract'

/** An answer the client is meant to read: `{"valid": false, "data": <data>}` with this status. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly data: string | FieldErrors,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof data === 'string' ? data : JSON.stringify(data))
  }
}

export const WRONG_CREDENTIALS = 'Wrong email or password'

export const wrongCredentials = () => new ApiError(401, WRONG_CREDENTIALS)

export const notLoggedIn = () =>
  new ApiError(401, 'Not logged in, or the session has ended; log in again', { 'www-authenticate': 'Bearer' })

export const tooManyAttempts = (retryAfterSeconds: number) =>
  new ApiError(429, `Too many failed logins; try again in ${retryAfterSeconds} s`, {
    'retry-after': String(retryAfterSeconds),
  })

export const invalidFields = (errors: FieldErrors) => new ApiError(400, errors)

export const emailTaken = () => new ApiError(409, { email: ['An account with this email already exists.'] })
