import http from 'node:http'
import type { AddressInfo } from 'node:net'
import fp from 'fastify-plugin'
import type { Config } from '../config/config.ts'
import { listenStartupError } from '../startup/startup-error.ts'
import { createMetrics, type Metrics } from './metrics.ts'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
    /** where `GET /metrics` answers once the app is ready; undefined when METRICS_PORT is not set */
    metricsAddress: () => AddressInfo | undefined
  }
}

/**
 * Prometheus metrics: the registry every layer counts in, HTTP requests by route pattern, and
 * `GET /metrics` on a listener of its own (METRICS_HOST:METRICS_PORT), never on the public port: nginx
 * forwards only the app's port, so nothing outside the deployment's networks can scrape it
 * (ASVS 5.0 V13.4.5: monitoring endpoints not exposed to untrusted parties).
 */
export default fp(
  async (app, { config }: { config: Config }) => {
    const metrics = createMetrics(config.role)
    app.decorate('metrics', metrics)

    app.addHook('onResponse', async (request, reply) => {
      // the route's pattern, never its URL (ids in paths would grow series without bound)
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      }
      metrics.httpRequests.inc(labels)
      metrics.httpDuration.observe(labels, reply.elapsedTime / 1000)
    })

    const { port, host } = config.metrics
    let server: http.Server | undefined
    app.decorate('metricsAddress', () => (server?.address() as AddressInfo | null) ?? undefined)
    if (port === undefined) return

    app.addHook('onReady', async () => {
      server = http.createServer((request, response) => {
        if (request.method !== 'GET' || request.url !== '/metrics') {
          response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: try GET /metrics\n')
          return
        }
        metrics.registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
          (error: unknown) => {
            app.log.error({ err: error }, 'collecting metrics failed')
            response.writeHead(500, { 'content-type': 'text/plain' }).end('Collecting metrics failed\n')
          },
        )
      })
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject)
        server!.listen(port, host, resolve)
      }).catch((error: unknown) => {
        throw listenStartupError(error, host, port, { port: 'METRICS_PORT', host: 'METRICS_HOST' }) ?? error
      })
      app.log.info(`metrics: http://${host}:${(server.address() as AddressInfo).port}/metrics`)
    })
    app.addHook('onClose', async () => {
      if (!server?.listening) return
      server.closeAllConnections()
      await new Promise<void>((resolve) => server!.close(() => resolve()))
    })
  },
  { name: 'metrics' },
)
