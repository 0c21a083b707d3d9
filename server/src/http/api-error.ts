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

export const invalidFields = (errors: FieldErrors) => new ApiError(400, errors)

/** Seconds as a person reads them: "45 seconds", "15 minutes". */
export function humanDuration(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`
  const minutes = Math.ceil(seconds / 60)
  return `${minutes} minutes`
}

/** 429 with `Retry-After` (RFC 9110 §10.2.3), saying in words when to come back. */
export const tooManyRequests = (what: string, retryAfterSeconds: number) =>
  new ApiError(429, `${what}; try again in ${humanDuration(retryAfterSeconds)}`, {
    'retry-after': String(retryAfterSeconds),
  })
