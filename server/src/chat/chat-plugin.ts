import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Config } from '../config/config.ts'
import { ChatHub } from './chat-hub.ts'
import type { ChatPeer, ChatSession } from './chat-peer.ts'
import { ChatConnection } from './chat-protocol-handler.ts'
import { ChatRepository } from './chat-repository.ts'
import { RoomRepository } from './room-repository.ts'
import { MemoryPresenceStore, RedisPresenceStore } from './presence.ts'

/** The chat domain as the transport sees it: hand it a peer, feed it what the peer says. */
export interface ChatService {
  /** starts a `chat.v1` conversation with an authenticated peer */
  connect(peer: ChatPeer): ChatSession
}

declare module 'fastify' {
  interface FastifyInstance {
    chat: ChatService
  }
}

/** Builds the chat domain of this process (repository, presence, hub) and decorates `app.chat`. */
export default fp(
  async (app, { config }: { config: Config }) => {
    const prefix = config.redisKeyPrefix
    const presenceTtlMs = config.chat.presenceIntervalMs * 3
    const repository = new ChatRepository(app.db)
    const hub = new ChatHub(
      repository,
      new RoomRepository(app.db),
      repository,
      app.bus,
      app.redis ? new RedisPresenceStore(app.redis, prefix, presenceTtlMs) : new MemoryPresenceStore(),
      prefix,
      app.instanceId,
      config.chat,
      app.log,
      app.metrics,
    )
    await hub.start()
    app.addHook('onClose', async () => {
      try {
        await hub.stop()
      } catch (error) {
        // shutting down goes on; the presence share lapses with this process's heartbeat key
        app.log.error({ err: error }, 'chat hub failed to stop cleanly')
      }
    })

    const settings = {
      messagesPerSecond: config.chat.messagesPerSecond,
      heartbeatMs: config.websocket.heartbeatIntervalMs,
    }
    app.decorate('chat', {
      connect(peer: ChatPeer): ChatSession {
        const log = app.log.child({ connectionId: randomUUID(), userId: peer.user.id })
        const connection = new ChatConnection(peer, hub, settings, log)
        connection.start()
        return connection
      },
    })
  },
  { name: 'chat', dependencies: ['metrics', 'database', 'redis'] },
)
