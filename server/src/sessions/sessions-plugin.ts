import fp from 'fastify-plugin'
import type { Config } from '../config/config.ts'
import { MemorySessionStore } from './memory-session-store.ts'
import { RedisSessionStore } from './redis-session-store.ts'
import { SESSION_EVENTS_CHANNEL, type SessionStore } from './session-store.ts'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionStore
  }
}

export default fp(
  async (app, { config }: { config: Config }) => {
    if (app.redis) {
      app.decorate('sessions', new RedisSessionStore(app.redis, config.redisKeyPrefix, config.session))
      return
    }
    const channel = `${config.redisKeyPrefix}${SESSION_EVENTS_CHANNEL}`
    const store = new MemorySessionStore(config.session, (event) => void app.bus.publish(channel, event))
    app.addHook('onClose', async () => store.close())
    app.decorate('sessions', store)
  },
  { name: 'sessions', dependencies: ['redis'] },
)
