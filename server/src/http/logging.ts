import type { FastifyRequest } from 'fastify'
import type { DestinationStream, LoggerOptions } from 'pino'
import type { Config } from '../config/config.ts'

// The legacy WebSocket URL carries `?token=`; a log line must never hold a live credential.
export const redactUrl = (url: string) => url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]')

export function loggerOptions(
  config: Config,
  stream?: DestinationStream,
): LoggerOptions & { stream?: DestinationStream } {
  return {
    level: config.logLevel,
    ...(stream ? { stream } : {}),
    ...(config.mode === 'dev' && !stream
      ? { transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname', singleLine: true } } }
      : {}),
    // Headers are not logged at all (Authorization, Cookie); this is a second net should anyone add them.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
      }),
    },
  }
}
