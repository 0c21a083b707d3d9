import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * Every metric of one process, in a registry of its own (tests build several apps in one process).
 * Prometheus conventions: base units (seconds), counters end in `_total`, and no label ever holds a user
 * id, an email or a room name, so the number of series stays bounded.
 * https://prometheus.io/docs/practices/naming/
 */
export function createMetrics(role: string) {
  const registry = new Registry()
  registry.setDefaultLabels({ role })
  // process and Node.js metrics: CPU, memory, event-loop lag, handles, GC
  collectDefaultMetrics({ register: registry })
  const registers = [registry]
  // latencies from sub-millisecond (a local insert) to the 5 s query timeout
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

  return {
    registry,
    httpRequests: new Counter({
      name: 'chat_http_requests_total',
      help: 'HTTP requests answered, by route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'chat_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    socketsOpen: new Gauge({
      name: 'chat_websocket_connections',
      help: 'Open WebSocket connections, by protocol (chat.v1 or the legacy echo)',
      labelNames: ['protocol'] as const,
      registers,
    }),
    upgrades: new Counter({
      name: 'chat_websocket_upgrades_total',
      help: 'WebSocket upgrade requests, accepted or refused, by reason',
      labelNames: ['result', 'reason'] as const,
      registers,
    }),
    messagesReceived: new Counter({
      name: 'chat_messages_received_total',
      help: 'Chat messages clients sent (send frames that reached a joined room)',
      registers,
    }),
    messagesStored: new Counter({
      name: 'chat_messages_stored_total',
      help: 'Chat messages stored (a resent clientId is not stored again)',
      registers,
    }),
    messagesDelivered: new Counter({
      name: 'chat_messages_delivered_total',
      help: 'Chat messages sent to a connection live (one per receiving connection)',
      registers,
    }),
    storeDuration: new Histogram({
      name: 'chat_message_store_duration_seconds',
      help: 'Time to store one chat message (the insert, its room lock included)',
      buckets: latencyBuckets,
      registers,
    }),
    busLag: new Histogram({
      name: 'chat_bus_lag_seconds',
      help: 'Time from publishing on the bus to receiving on this process (publish time stamped in the payload)',
      buckets: latencyBuckets,
      registers,
    }),
    gapFills: new Counter({
      name: 'chat_gap_fills_total',
      help: 'Room gaps filled from the database (a message announced before one that never arrived)',
      registers,
    }),
    catchUps: new Counter({
      name: 'chat_catch_ups_total',
      help: 'Rooms caught up from the database after the bus came back',
      registers,
    }),
    sessionChecks: new Counter({
      name: 'chat_session_checks_total',
      help: 'Sessions of open sockets re-checked in the periodic batch: ok, ended; failed counts a batch the store did not answer',
      labelNames: ['result'] as const,
      registers,
    }),
    sessionCloses: new Counter({
      name: 'chat_session_closes_total',
      help: 'Sockets closed with 4001 because their session ended',
      registers,
    }),
    logins: new Counter({
      name: 'chat_logins_total',
      help: 'Login attempts, by result',
      labelNames: ['result'] as const,
      registers,
    }),
    postgresErrors: new Counter({
      name: 'chat_postgres_errors_total',
      help: 'Errors of PostgreSQL connections (a lost server, a broken socket)',
      registers,
    }),
    redisErrors: new Counter({
      name: 'chat_redis_errors_total',
      help: 'Errors of Redis connections, by connection',
      labelNames: ['connection'] as const,
      registers,
    }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>

export type LoginResult = 'success' | 'failure' | 'throttled' | 'disabled'
