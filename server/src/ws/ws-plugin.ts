import { randomBytes } from 'node:crypto'
import websocket from '@fastify/websocket'
import {
  BEARER_SUBPROTOCOL_PREFIX,
  CHAT_SUBPROTOCOL,
  CloseCode,
  WS_PATH,
  type ChatUser,
} from '@chat/contract'
import { Type, type Static } from 'typebox'
import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { RawData, WebSocket } from 'ws'
import { ApiError } from '../http/api-error.ts'
import { isAllowedOrigin } from '../http/origin.ts'
import { notLoggedIn } from '../auth/auth-errors.ts'
import { readToken } from '../auth/auth-plugin.ts'
import type { Config } from '../config/config.ts'
import { SESSION_EVENTS_CHANNEL, type Session } from '../sessions/session-store.ts'
import { speakEcho } from './echo-protocol.ts'
import { LocalConnectionSlots, RedisConnectionSlots } from './connection-slots.ts'
import { Peer } from './peer.ts'
import { SessionWatch } from './session-watch.ts'

declare module 'fastify' {
  interface FastifyRequest {
    upgrade?: {
      token: string
      session: Session
      user: ChatUser
      admin: boolean
      chat: boolean
      /** the placeholder HTTP response @fastify/websocket attaches to the socket for the upgrade */
      response: ServerResponse
    }
  }
}

const SHUTDOWN_GRACE_MS = 2_000

/** The refused upgrade's status, as the reason `chat_websocket_upgrades_total` counts it under. */
const UPGRADE_REFUSALS: Record<number, string> = {
  400: 'bad_request',
  401: 'not_logged_in',
  403: 'origin',
  429: 'too_many_connections',
  503: 'draining',
}

/** `?token=`: the original's clients carry their token in the URL (legacy; see docs/protocol.md). */
const WsQuerystring = Type.Object({ token: Type.Optional(Type.String()) })
type WsQuery = Static<typeof WsQuerystring>

/** A binary frame as one byte array, whichever form `ws` delivered it in. */
const bytesOf = (data: RawData): Uint8Array =>
  Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data

function offeredProtocols(request: FastifyRequest): string[] {
  const header = request.headers['sec-websocket-protocol']
  return header
    ? header
        .split(',')
        .map((protocol) => protocol.trim())
        .filter(Boolean)
    : []
}

/**
 * A cookie rides along with any page's request, so a cookie-authenticated socket must come from the
 * site's own origin (whole origin, scheme included) or an allowed one. ASVS 5.0 V4.4.2 (WebSocket origin
 * check), V3.5.1 (cross-origin requests with cookies).
 */
function originAllowed(request: FastifyRequest, allowed: string[]): boolean {
  const origin = request.headers.origin
  return origin !== undefined && isAllowedOrigin(origin, request, allowed)
}

/**
 * `GET /ws`: the WebSocket server. Credentials are checked before the upgrade completes, so a bad one
 * gets a plain HTTP status and never a `101`. No subprotocol speaks the original echo; `chat.v1` the chat.
 */
export default fp(
  async (app, { config }: { config: Config }) => {
    const settings = config.websocket
    const prefix = config.redisKeyPrefix
    const watch = new SessionWatch(
      app.sessions,
      app.bus,
      `${prefix}${SESSION_EVENTS_CHANNEL}`,
      settings.sessionCheckIntervalMs,
      app.log,
      app.metrics,
    )
    await watch.start()
    const slots = app.redis
      ? new RedisConnectionSlots(
          app.redis,
          prefix,
          settings.maxConnectionsPerUser,
          settings.sessionCheckIntervalMs,
          app.log,
        )
      : new LocalConnectionSlots(settings.maxConnectionsPerUser)

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
      slots.close()
      await watch.stop()
    })

    /** Counts each upgrade request once: accepted, or refused with the reason its status stands for. */
    async function countedUpgrade(request: FastifyRequest<{ Querystring: WsQuery }>, reply: FastifyReply) {
      try {
        await authenticateUpgrade(request, reply)
        app.metrics.upgrades.inc({ result: 'accepted', reason: '' })
      } catch (error) {
        const status = error instanceof ApiError ? error.statusCode : 500
        app.metrics.upgrades.inc({ result: 'refused', reason: UPGRADE_REFUSALS[status] ?? 'error' })
        throw error
      }
    }

    async function authenticateUpgrade(
      request: FastifyRequest<{ Querystring: WsQuery }>,
      reply: FastifyReply,
    ) {
      // shutting down: nginx hands a 503 to the next ws process (proxy_next_upstream http_503)
      if (app.lifecycle.draining) throw new ApiError(503, 'This server is shutting down; connect again')
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
      let token = bearer?.slice(BEARER_SUBPROTOCOL_PREFIX.length) || request.query.token
      if (!token) {
        token = readToken(request, config.session.cookieName)
        // a cookie rides along with any page's request: only our own pages may use it (CSWSH)
        if (token && !request.headers.authorization && !originAllowed(request, settings.allowedOrigins)) {
          throw new ApiError(403, 'This origin may not open a WebSocket with the session cookie')
        }
      }
      const session = token ? await app.sessions.touch(token) : undefined
      if (!token || !session) throw notLoggedIn()
      // authority comes from the database, not the session: a disabled or deleted user gets no socket
      const user = await app.users.find(session.user.id)
      if (!user || user.disabled) throw notLoggedIn()
      // the slot is taken in one atomic step and held for as long as the connection lasts, however the
      // upgrade ends, so upgrades in parallel (on one process or many) cannot overshoot the cap
      // from bytes: a flat string, where randomUUID()'s is built of 14 joined pieces kept as they are
      const connectionId = randomBytes(12).toString('base64url')
      if (!(await slots.take(user.id, connectionId))) {
        throw new ApiError(
          429,
          `Too many open connections; at most ${settings.maxConnectionsPerUser} per user`,
        )
      }
      const connection = request.raw.socket
      // the id alone: a closure over `user` would keep the whole row (hash included) as long as the socket
      const userId = user.id
      if (connection.destroyed) slots.release(userId, connectionId)
      else connection.once('close', () => slots.release(userId, connectionId))
      const shown = { id: user.id, name: user.displayName, verified: user.confirmed }
      request.upgrade = {
        token,
        session,
        user: shown,
        admin: user.admin,
        chat: wanted.includes(CHAT_SUBPROTOCOL),
        response: reply.raw,
      }
    }

    app.get<{ Querystring: WsQuery }>(
      WS_PATH,
      // preHandler: the query is validated by then, so `token` is one string or absent
      {
        websocket: true,
        schema: { querystring: WsQuerystring, hide: true },
        preHandler: countedUpgrade,
      },
      (socket: WebSocket, request) => {
        const { token, session, user, admin, chat, response } = request.upgrade!
        // Nothing of the upgrade request is kept for the socket's life (an idle socket's memory, issue
        // 13): the placeholder response, never sent once the socket is upgraded, stays attached to the
        // connection and its listeners hold Fastify's request and reply, so it is detached;
        // @fastify/websocket's error listener holds them too, so ours replaces it (the same: log, then
        // terminate); and the peer logs through the app's logger, not the request's child.
        response.detachSocket(request.raw.socket)
        socket.removeAllListeners('error')
        socket.on('error', (error) => {
          app.log.error({ err: error, userId: user.id }, 'WebSocket error')
          socket.terminate()
        })
        const peer = new Peer(socket, user, admin, token, settings.sendBufferLimit, app.log)
        watch.add(peer, session.expiresAt)
        const protocol = { protocol: chat ? CHAT_SUBPROTOCOL : 'echo' }
        app.metrics.socketsOpen.inc(protocol)
        socket.on('pong', () => (peer.alive = true))
        socket.on('message', () => (peer.alive = true))
        socket.on('close', () => {
          watch.remove(peer)
          app.metrics.socketsOpen.dec(protocol)
        })
        if (!chat) return speakEcho(peer)
        const conversation = app.chat.connect(peer)
        socket.on('message', (data: RawData, isBinary: boolean) =>
          conversation.receive(isBinary ? bytesOf(data) : data.toString()),
        )
        socket.on('close', () => conversation.closed())
      },
    )
  },
  {
    name: 'websocket-server',
    dependencies: ['metrics', 'lifecycle', 'redis', 'sessions', 'auth', 'chat', '@fastify/cookie'],
  },
)
