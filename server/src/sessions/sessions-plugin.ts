import fp from 'fastify-plugin'
import type { Config } from '../config/config.ts'
import { DatabaseSessionStore } from './database-session-store.ts'
import { RedisSessionStore } from './redis-session-store.ts'
import { SESSION_EVENTS_CHANNEL, type SessionStore } from './session-store.ts'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionStore
  }
}

const SWEEP_INTERVAL_MS = 60_000

/** Sessions in Redis when it is configured, else in the database, so they outlive a restart either way. */
export default fp(
  async (app, { config }: { config: Config }) => {
    const channel = `${config.redisKeyPrefix}${SESSION_EVENTS_CHANNEL}`
    const publish = (event: string) => {
      app.bus.publish(channel, event).catch((error: unknown) => {
        app.log.warn(
          { err: error, event },
          'announcing an ended session failed; its sockets close at the next check',
        )
      })
    }
    if (app.redis) {
      app.decorate(
        'sessions',
        new RedisSessionStore(app.redis, config.redisKeyPrefix, config.session, publish),
      )
      return
    }
    const store = new DatabaseSessionStore(app.db, config.session, publish)
    // Redis expires its keys itself; here ended sessions are deleted now and then
    const sweeper = setInterval(
      () => {
        store
          .sweep()
          .catch((error: unknown) => app.log.warn({ err: error }, 'sweeping ended sessions failed'))
      },
      Math.min(config.session.idleTimeoutMs, SWEEP_INTERVAL_MS),
    )
    sweeper.unref()
    app.addHook('onClose', async () => clearInterval(sweeper))
    app.decorate('sessions', store)
  },
  { name: 'sessions', dependencies: ['database', 'redis'] },
)
