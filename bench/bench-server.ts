// A server under test, run in a child process (pinned to its own core by run.ts). argv[2]: `app` (ours;
// argv[3] a JSON object of environment variables on top of embedded defaults) or `baseline` (a plain `ws`
// server with the same token check). Reports over IPC.
import { createServer } from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'
import { buildApp, loadConfig, MemorySessionStore } from '@chat/server'

const kind = process.argv[2]
const send = (message: unknown) => process.send!(message)

process.on('message', (message: { type: string }) => {
  if (message.type !== 'memory') return
  // twice: the first pass can leave finalised objects for the second
  globalThis.gc?.()
  globalThis.gc?.()
  send({ type: 'memory', ...process.memoryUsage() })
})

// an orderly exit on SIGTERM, so that --cpu-prof (BENCH_CPU_PROFILE) writes its profile
process.on('SIGTERM', () => process.exit(0))

const user = { id: '1', email: 'bench@example.com' }

if (kind === 'app') {
  // embedded backends unless the variables in argv[3] say otherwise (PostgreSQL + Redis for chat runs)
  const config = loadConfig({
    PGLITE_DATA_DIR: 'memory://',
    LOG_LEVEL: 'warn',
    API_MODE: 'dev',
    WS_MESSAGES_PER_SECOND: '1000000',
    WS_MAX_CONNECTIONS_PER_USER: '100000',
    WS_MAX_MESSAGE_BYTES: '65536',
    ...(JSON.parse(process.argv[3] ?? '{}') as Record<string, string>),
  })
  const app = await buildApp(config, { logStream: process.stderr })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const admin = (
    await app.inject({ method: 'POST', url: '/api/v1.0/user/auth', payload: config.admin })
  ).json()
  send({ type: 'ready', url: address.replace('http', 'ws') + '/ws', token: admin.data.access_token })
} else {
  const sessions = new MemorySessionStore({ idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 3_600_000 })
  const token = await sessions.create(user)
  const server = createServer()
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 65536,
    handleProtocols: (p) => (p.has('chat.v1') ? 'chat.v1' : false),
  })
  const clients = new Set<WebSocket>()
  server.on('upgrade', async (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    const offered = String(request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
    const candidate = url.searchParams.get('token') ?? offered.find((p) => p.startsWith('bearer.'))?.slice(7)
    if (!candidate || !(await sessions.touch(candidate))) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n')
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      clients.add(ws)
      ws.on('close', () => clients.delete(ws))
      ws.on('message', (data, isBinary) => {
        if (isBinary) return ws.close(1003)
        const text = data.toString()
        if (ws.protocol !== 'chat.v1') {
          if (text === '/out') return ws.close(1000)
          if (text !== '') ws.send(`I've received: ${text}`)
          return
        }
        // fan-out baseline: one serialisation, sent to every client; no storage
        const message = JSON.parse(text) as { type: string; text?: string }
        if (message.type !== 'send') return
        const frame = JSON.stringify({ type: 'message', text: message.text, at: new Date().toISOString() })
        for (const client of clients) client.send(frame)
      })
    })
  })
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number }
    send({ type: 'ready', url: `ws://127.0.0.1:${port}/ws`, token })
  })
}
