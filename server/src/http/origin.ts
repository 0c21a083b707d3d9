import type { FastifyRequest } from 'fastify'

/**
 * Whether `origin` (an `Origin` header) is the request's own origin, scheme, host and port alike, or one
 * the configuration allows. The scheme and host are the request's as the client saw them: Fastify takes
 * them from X-Forwarded-Proto / -Host only when the request came through a trusted proxy.
 */
export function isAllowedOrigin(
  origin: string,
  request: FastifyRequest,
  allowed: readonly string[],
): boolean {
  if (allowed.includes(origin)) return true
  try {
    // URL.origin normalises case and default ports, so https://host:443 equals https://host
    return new URL(origin).origin === new URL(`${request.protocol}://${request.host}`).origin
  } catch {
    return false
  }
}
