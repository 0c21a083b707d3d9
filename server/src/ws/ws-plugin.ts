import { randomUUID } from 'node:crypto'
import websocket from '@fastify/websocket'
import { BEARER_SUBPROTOCOL_PREFIX, CHAT_SUBPROTOCOL, CloseCode, WS_PATH } from '@chat/contract'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { WebSocket } from 'ws'
import { ApiError } from '../http/api-error.ts'
import { readToken } from '../auth/auth-plugin.ts'
import { ChatHub } from '../chat/chat-hub.ts'
import { ChatConnection } from '../chat/chat-protocol-handler.ts'
import { ChatRepository } from '../chat/chat-repository.ts'
import { MemoryPresenceStore, RedisPresenceStore } from '../chat/presence.ts'
import type { Config } from '../config/config.ts'
import { SESSION_EVENTS_CHANNEL, type Session } from '../sessions/session-store.ts'
import { speakEcho } from './echo-protocol.ts'
import { Peer } from './peer.ts'
import { SessionWatch } from './session-watch.ts'

declare module 'fastify' {
  interface FastifyRequest {
    upgrade?: { token: string; session: Session; chat: boolean }
  }
}

const SHUTDOWN_GRACE_MS = 2_000

function offeredProtocols(request: FastifyRequest): string[] {
  const header = request.headers['sec-websocket-protocol']
  return header
    ? header
        .split(',')
        .map((protocol) => protocol.trim())
        .filter(Boolean)
    : []
}

/** Same origin as the page that opened the socket, or one the configuration allows. */
function originAllowed(request: FastifyRequest, allowed: string[]): boolean {
  const origin = request.headers.origin
  if (!origin) return false
  if (allowed.includes(origin)) return true
  try {
    return new URL(origin).host === request.headers.host
  } catch {
    return false
  }
}

/**
 * `GET /ws`: the WebSocket server. Credentials are checked before the upgrade completes, so a bad one
 * gets a plain HTTP status and never a `101`. No subprotocol speaks the original echo; `chat.v1` the chat.
 */
export default fp(
  async (app, { config }: { config: Config }) => {
    const settings = config.websocket
    const processId = randomUUID()
    const prefix = config.redisKeyPrefix
    const presenceTtlMs = config.chat.presenceIntervalMs * 3
    const hub = new ChatHub(
      new ChatRepository(app.db),
      app.bus,
      app.redis ? new RedisPresenceStore(app.redis, prefix, presenceTtlMs) : new MemoryPresenceStore(),
      prefix,
      processId,
      config.chat,
      app.log,
    )
    const watch = new SessionWatch(
      app.sessions,
      app.bus,
      `${prefix}${SESSION_EVENTS_CHANNEL}`,
      settings.sessionCheckIntervalMs,
      app.log,
    )
    await hub.start()
    await watch.start()

    // RFC 6455 §5.5.2: pings; a peer that has not answered the previous one is dropped, so a dead peer
    // goes within two intervals, and an idle healthy one outlives a proxy's 60 s read timeout.
    const heartbeat = setInterval(() => {
      for (const peer of watch.peers()) {
        if (!peer.alive) {
          peer.socket.terminate()
          continue
        }
        peer.alive = false
        peer.socket.ping()
      }
    }, settings.heartbeatIntervalMs)
    heartbeat.unref()

    await app.register(websocket, {
      options: {
        maxPayload: settings.maxMessageBytes,
        // chat.v1 when offered; the bearer.<token> entry is never chosen, so never echoed back
        handleProtocols: (protocols: Set<string>) =>
          protocols.has(CHAT_SUBPROTOCOL) ? CHAT_SUBPROTOCOL : false,
      },
      preClose: async function closeEveryone() {
        const peers = [...watch.peers()]
        for (const peer of peers) peer.close(CloseCode.goingAway, 'server shutting down')
        const deadline = Date.now() + SHUTDOWN_GRACE_MS
        while (peers.some((peer) => peer.socket.readyState !== peer.socket.CLOSED) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        for (const peer of peers) peer.socket.terminate()
      },
    })

    app.addHook('onClose', async () => {
      clearInterval(heartbeat)
      await watch.stop()
      await hub.stop().catch(() => {})
    })

    async function authenticateUpgrade(request: FastifyRequest, reply: FastifyReply) {
      const offered = offeredProtocols(request)
      const bearer = offered.find((protocol) => protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX))
      const wanted = offered.filter((protocol) => !protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX))
      if (wanted.length > 0 && !wanted.includes(CHAT_SUBPROTOCOL)) {
        throw new ApiError(
          400,
          `Unsupported subprotocol; this server speaks ${CHAT_SUBPROTOCOL}, or the echo protocol with none`,
        )
      }
      if (bearer && wanted.length === 0) {
        throw new ApiError(
          400,
          `A ${BEARER_SUBPROTOCOL_PREFIX}<token> subprotocol must come with ${CHAT_SUBPROTOCOL}`,
        )
      }
      const query = request.query as { token?: unknown }
      let token =
        bearer?.slice(BEARER_SUBPROTOCOL_PREFIX.length) ||
        (typeof query.token === 'string' ? query.token : undefined)
      if (!token) {
        token = readToken(request, config.session.cookieName)
        // a cookie rides along with any page's request: only our own pages may use it (CSWSH)
        if (token && !request.headers.authorization && !originAllowed(request, settings.allowedOrigins)) {
          throw new ApiError(403, 'This origin may not open a WebSocket with the session cookie')
        }
      }
      const session = token ? await app.sessions.touch(token) : undefined
      if (!token || !session) {
        throw new ApiError(401, 'Not logged in, or the session has ended; log in again', {
          'www-authenticate': 'Bearer',
        })
      }
      if (watch.connectionsOf(session.user.id) >= settings.maxConnectionsPerUser) {
        throw new ApiError(
          429,
          `Too many open connections; at most ${settings.maxConnectionsPerUser} per user`,
        )
      }
      request.upgrade = { token, session, chat: wanted.includes(CHAT_SUBPROTOCOL) }
      void reply
    }

    app.get(
      WS_PATH,
      { websocket: true, preValidation: authenticateUpgrade },
      (socket: WebSocket, request) => {
        const { token, session, chat } = request.upgrade!
        const peer = new Peer(socket, session.user, token, settings.sendBufferLimit, request.log)
        watch.add(peer, session.expiresAt)
        socket.on('pong', () => (peer.alive = true))
        socket.on('message', () => (peer.alive = true))
        socket.on('close', () => watch.remove(peer))
        if (!chat) return speakEcho(peer)
        void new ChatConnection(peer, hub).start(settings.heartbeatIntervalMs).catch((error: unknown) => {
          request.log.error({ err: error }, 'chat connection failed to start')
          peer.close(CloseCode.internalError, 'server error')
        })
      },
    )
  },
  { name: 'websocket-server', dependencies: ['database', 'redis', 'sessions', '@fastify/cookie'] },
)
