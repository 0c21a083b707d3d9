import { hostname } from 'node:os'
import type { FastifyRequest } from 'fastify'
import type { DestinationStream, LoggerOptions } from 'pino'
import type { Config } from '../config/config.ts'

/**
 * The path of a request URL, without its query string. The legacy WebSocket URL carries `?token=` (or
 * `?%74oken=`, which the query parser decodes to the same name), so no query is ever logged: a log line
 * must never hold a credential (ASVS 16.2.5, 14.2.1).
 */
export const pathOf = (url: string) => {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/**
 * Every line carries the process's role (api, ws, all) and instance id (the `server` a chat client is told
 * in `welcome`), besides pid and host: an operator can tell which replica said what.
 */
export function loggerOptions(
  config: Config,
  instance: string,
  stream?: DestinationStream,
): LoggerOptions & { stream?: DestinationStream } {
  return {
    level: config.logLevel,
    base: { role: config.role, instance, pid: process.pid, hostname: hostname() },
    ...(stream ? { stream } : {}),
    ...(config.mode === 'dev' && !stream
      ? {
          transport: {
            target: 'pino-pretty',
            options: { ignore: 'pid,hostname,instance', singleLine: true },
          },
        }
      : {}),
    // Headers are not logged at all (Authorization, Cookie); this is a second net should anyone add them.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: pathOf(request.url),
        remoteAddress: request.ip,
      }),
    },
  }
}
