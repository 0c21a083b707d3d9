import fp from 'fastify-plugin'
import type { FastifyError, FastifyRequest } from 'fastify'
import type { FastifySchemaValidationError } from 'fastify/types/schema.js'
import { fieldMessages, type FieldErrors } from '@chat/contract'
import { ApiError } from './api-error.ts'
import { pathOf } from './logging.ts'
import { drainUnreadBody } from './unread-body.ts'

const BODY_ERRORS: Record<string, { status: number; data: string | FieldErrors }> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    data: { _schema: ['The request body is empty; send a JSON object.'] },
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, data: { _schema: ['The request body is not valid JSON.'] } },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, data: 'Unsupported content type; send application/json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, data: 'The request body is too large' },
}

function messageFor(error: FastifySchemaValidationError, value: unknown): string {
  const limit = Number(error.params.limit)
  switch (error.keyword) {
    case 'type':
      return value === null ? fieldMessages.null : fieldMessages.notString
    case 'format':
      return error.params.format === 'email'
        ? fieldMessages.email
        : `Not a valid ${String(error.params.format)}.`
    case 'minLength':
      return fieldMessages.minLength(limit)
    case 'maxLength':
      return fieldMessages.maxLength(limit)
    default:
      return error.message ?? 'Invalid value.'
  }
}

/** ajv's errors in the original's (marshmallow's) shape: `{"email": ["Not a valid email address."]}`. */
export function toFieldErrors(
  errors: FastifySchemaValidationError[],
  body: unknown,
  context = 'body',
): FieldErrors {
  if (context === 'body' && (body === undefined || body === null))
    return { _schema: ['The request body is empty; send a JSON object.'] }
  const fields: FieldErrors = {}
  const add = (field: string, message: string) => {
    const messages = (fields[field] ??= [])
    if (!messages.includes(message)) messages.push(message)
  }
  for (const error of errors) {
    if (error.keyword === 'required') {
      add(String(error.params.missingProperty), fieldMessages.required)
    } else if (error.instancePath === '') {
      add('_schema', fieldMessages.notObject)
    } else {
      const field = error.instancePath.slice(1).split('/')[0]!
      add(field, messageFor(error, (body as Record<string, unknown>)[field]))
    }
  }
  return fields
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03'])

/**
 * The error itself says the backend is unreachable, silent or full (on a Redis Cluster also: a master is
 * down and not yet replaced, or the client lost every node).
 */
function unavailableItself(error: Error & { code?: string }): boolean {
  return (
    (error.code !== undefined && UNAVAILABLE_CODES.has(error.code)) ||
    error.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed|Connection terminated|timeout exceeded when trying to connect|Query read timeout|Command timed out|\bOOM command not allowed|^CLUSTERDOWN|Too many Cluster redirections|None of startup nodes is available|Failed to refresh slots cache/.test(
      error.message,
    )
  )
}

/**
 * PostgreSQL or Redis cannot be reached, stopped answering, or (Redis at maxmemory under noeviction)
 * refuses writes: a 503 the client may retry, not a bug of ours. A Redis transaction that fails
 * (EXECABORT) fails for what its queued commands met, so those are looked at too (one level: ioredis
 * may list an error among its own previous errors).
 */
function backendUnavailable(error: Error & { code?: string; previousErrors?: unknown }): boolean {
  if (unavailableItself(error)) return true
  const previous = Array.isArray(error.previousErrors) ? error.previousErrors : []
  return previous.some((cause) => cause instanceof Error && unavailableItself(cause))
}

/**
 * One error policy: every failure answers `{"valid": false, "data": …}`; what a client did wrong is said
 * plainly, what went wrong inside is logged with the request id and never shown.
 */
export default fp(
  async (app) => {
    app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply) => {
      if (error instanceof ApiError) {
        return reply.code(error.statusCode).headers(error.headers).send({ valid: false, data: error.data })
      }
      if (error.validation) {
        const part = error.validationContext ?? 'body'
        const values = {
          body: request.body,
          querystring: request.query,
          params: request.params,
          headers: request.headers,
        }
        const value = values[part as keyof typeof values]
        return reply.code(400).send({ valid: false, data: toFieldErrors(error.validation, value, part) })
      }
      const known = error.code ? BODY_ERRORS[error.code] : undefined
      if (known) {
        drainUnreadBody(request, reply)
        return reply.code(known.status).send({ valid: false, data: known.data })
      }
      const status = error.statusCode ?? (backendUnavailable(error) ? 503 : 500)
      if (status < 500) return reply.code(status).send({ valid: false, data: error.message })
      request.log.error({ err: error }, 'request failed')
      const message =
        status === 503 ? 'Service temporarily unavailable; try again shortly' : 'Internal server error'
      return reply.code(status).send({ valid: false, data: message })
    })
    app.setNotFoundHandler((request, reply) =>
      reply.code(404).send({ valid: false, data: `No route for ${request.method} ${pathOf(request.url)}` }),
    )
  },
  { name: 'error-handler' },
)
