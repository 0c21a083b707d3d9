import fp from 'fastify-plugin'

/** Whether this process is still taking work, or shutting down. */
export interface Lifecycle {
  /** true from SIGTERM on: not ready, no new WebSockets; open ones are closed with 1001 when the app closes */
  readonly draining: boolean
  startDraining(): void
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle
  }
}

/**
 * The draining flag: set first on SIGTERM (main.ts), so `/api/health/ready` answers 503 and upgrades go
 * elsewhere while the open sockets are still served; the sockets are closed (1001) when the app closes.
 */
export default fp(
  async (app) => {
    let draining = false
    app.decorate('lifecycle', {
      get draining() {
        return draining
      },
      startDraining() {
        if (draining) return
        draining = true
        app.log.info('draining: not ready, refusing new WebSockets')
      },
    })
  },
  { name: 'lifecycle' },
)
