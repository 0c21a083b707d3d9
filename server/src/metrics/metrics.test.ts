import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repositoryRoot } from '../config/config.ts'
import { realBackend } from '../test/backends.ts'
import { freePort } from '../test/ports.ts'
import { bearer, newEmail, postJson, startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket, refusedStatus } from '../test/ws-client.ts'

/** The value of one sample in a scrape; 0 when the series does not exist yet. */
function sample(scrape: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`)
  for (const line of scrape.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const present = (match[2] ?? '').split(/,(?=[a-zA-Z_]\w*=")/)
    if (wanted.every((label) => present.includes(label))) return Number(match[3])
  }
  return 0
}

describe('Prometheus metrics on PostgreSQL + Redis', () => {
  let t: TestApp
  let publicUrl: string
  let metricsUrl: string
  const scrape = async () => {
    const response = await fetch(metricsUrl)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return response.text()
  }
  /** runs `act`, then answers how much each named sample moved */
  async function delta(act: () => Promise<unknown>, read: (scrape: string) => number): Promise<number> {
    const before = read(await scrape())
    await act()
    return read(await scrape()) - before
  }

  beforeAll(async () => {
    t = await startTestApp(realBackend, {
      METRICS_PORT: String(await freePort()),
      METRICS_HOST: '127.0.0.1',
      LOGIN_MAX_FAILURES_PER_CLIENT: '2',
      WS_SESSION_CHECK_INTERVAL: '0.1',
    })
    publicUrl = await t.app.listen({ host: '127.0.0.1', port: 0 })
    metricsUrl = `http://127.0.0.1:${t.app.metricsAddress()!.port}/metrics`
  })
  afterAll(() => t?.close())

  const register = async (email = newEmail()) => {
    const response = await postJson(t.app, '/api/v1.0/user/register', { email, password: 'a-good-password' })
    expect(response.statusCode).toBe(201)
    return { email, token: response.json().data.access_token as string }
  }
  const chat = (token: string) =>
    openSocket(`${publicUrl.replace('http', 'ws')}/ws`, ['chat.v1', `bearer.${token}`])

  it('answers only on its own port: the public port has no /metrics', async () => {
    expect((await fetch(`${publicUrl}/metrics`)).status).toBe(404)
    expect((await fetch(metricsUrl.replace('/metrics', '/'))).status).toBe(404)
  })

  it('has the process and event-loop metrics, labelled with the role', async () => {
    const text = await scrape()
    expect(sample(text, 'process_resident_memory_bytes', { role: 'all' })).toBeGreaterThan(0)
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds\{role="all"\} /m)
    expect(text).toMatch(/^chat_postgres_pool_clients\{state="total",role="all"\} \d+/m)
  })

  it('counts HTTP requests by route pattern and status, with a duration histogram', async () => {
    const labels = { method: 'POST', route: '/api/v1.0/user/auth', status: '400' }
    const moved = await delta(
      () => Promise.all([1, 2, 3].map(() => postJson(t.app, '/api/v1.0/user/auth', {}))),
      (text) => sample(text, 'chat_http_requests_total', labels),
    )
    expect(moved).toBe(3)
    const text = await scrape()
    expect(sample(text, 'chat_http_request_duration_seconds_count', labels)).toBe(3)
    expect(sample(text, 'chat_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(3)
    // a path no route matches is one series, whatever the path
    const unmatched = { route: 'unmatched', status: '404' }
    const paths = [1, 2].map(() => `/api/nothing-${crypto.randomUUID()}`)
    const missed = await delta(
      () => Promise.all(paths.map((url) => t.app.inject({ method: 'GET', url }))),
      (text) => sample(text, 'chat_http_requests_total', unmatched),
    )
    expect(missed).toBe(2)
    expect(await scrape()).not.toContain('/api/nothing-')
  })

  it('counts logins: successes, failures and throttles', async () => {
    const { email } = await register()
    const login = (password: string) => postJson(t.app, '/api/v1.0/user/auth', { email, password })
    const read = (result: string) => (text: string) => sample(text, 'chat_logins_total', { result })
    expect(await delta(() => login('a-good-password'), read('success'))).toBe(1)
    expect(await delta(() => login('a-wrong-password'), read('failure'))).toBe(1)
    await login('a-wrong-password')
    expect(await delta(() => login('a-wrong-password'), read('throttled'))).toBe(1)
  })

  it('counts upgrades accepted and refused by reason, and open sockets by protocol', async () => {
    const { token } = await register()
    const wsUrl = `${publicUrl.replace('http', 'ws')}/ws`
    const upgrades = (result: string, reason: string) => (text: string) =>
      sample(text, 'chat_websocket_upgrades_total', { result, reason })
    expect(
      await delta(
        () => refusedStatus(wsUrl, ['chat.v1', 'bearer.nope']),
        upgrades('refused', 'not_logged_in'),
      ),
    ).toBe(1)
    expect(await delta(() => refusedStatus(wsUrl, ['mqtt']), upgrades('refused', 'bad_request'))).toBe(1)
    const before = await scrape()
    const socket = await chat(token)
    const echo = await openSocket(`${wsUrl}?token=${token}`)
    const during = await scrape()
    expect(upgrades('accepted', '')(during) - upgrades('accepted', '')(before)).toBe(2)
    expect(sample(during, 'chat_websocket_connections', { protocol: 'chat.v1' })).toBe(1)
    expect(sample(during, 'chat_websocket_connections', { protocol: 'echo' })).toBe(1)
    socket.socket.close()
    echo.socket.close()
    await Promise.all([socket.closed, echo.closed])
    await expect
      .poll(async () => sample(await scrape(), 'chat_websocket_connections', { protocol: 'chat.v1' }))
      .toBe(0)
  })

  it('counts chat messages received, stored and delivered, store latency and pub/sub lag', async () => {
    const [alice, bob] = [await register(), await register()]
    const [a, b] = [await chat(alice.token), await chat(bob.token)]
    const room = `metrics-${crypto.randomUUID().slice(0, 8)}`
    a.socket.send(JSON.stringify({ type: 'create_room', room }))
    await a.nextOfType('room_created', (m: { room: string }) => m.room === room)
    for (const s of [a, b]) {
      s.socket.send(JSON.stringify({ type: 'join', room }))
      await s.nextOfType('joined')
    }
    const before = await scrape()
    a.socket.send(JSON.stringify({ type: 'send', room, clientId: 'one', text: 'hello' }))
    await a.nextOfType('ack')
    await b.nextOfType('message')
    await a.nextOfType('message')
    // the same clientId again: acked again, not stored again
    a.socket.send(JSON.stringify({ type: 'send', room, clientId: 'one', text: 'hello' }))
    await a.nextOfType('ack')
    const after = await scrape()
    const moved = (name: string) => sample(after, name) - sample(before, name)
    expect(moved('chat_messages_received_total')).toBe(2)
    expect(moved('chat_messages_stored_total')).toBe(1)
    expect(moved('chat_messages_delivered_total')).toBe(2)
    expect(moved('chat_message_store_duration_seconds_count')).toBe(2)
    // the message's announcement, at least, crossed Redis and was timed on receipt
    expect(moved('chat_bus_lag_seconds_count')).toBeGreaterThanOrEqual(1)
    a.socket.close()
    b.socket.close()
  })

  it('counts session checks, and the 4001 closes of an ended session', async () => {
    const { token } = await register()
    const socket = await chat(token)
    await socket.nextOfType('welcome')
    await expect
      .poll(async () => sample(await scrape(), 'chat_session_checks_total', { result: 'ok' }))
      .toBeGreaterThan(0)
    const closes = sample(await scrape(), 'chat_session_closes_total')
    await postJson(t.app, '/api/v1.0/user/logout', {}, bearer(token))
    expect((await socket.closed).code).toBe(4001)
    expect(sample(await scrape(), 'chat_session_closes_total') - closes).toBe(1)
  })

  it('has every metric the Grafana dashboard queries (docker/grafana/dashboards/chat.json)', async () => {
    const exposed = new Set(
      (await t.app.metrics.registry.getMetricsAsJSON()).flatMap(({ name, type }) =>
        String(type) === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
      ),
    )
    const dashboard = readFileSync(path.join(repositoryRoot, 'docker/grafana/dashboards/chat.json'), 'utf8')
    const queried = new Set(
      (JSON.parse(dashboard) as { panels: { targets: { expr: string }[] }[] }).panels
        .flatMap((panel) => panel.targets)
        .flatMap((target) => target.expr.match(/\b(?:chat|nodejs|process)_\w+/g) ?? []),
    )
    expect(queried.size).toBeGreaterThan(10)
    expect([...queried].filter((name) => !exposed.has(name))).toEqual([])
  })
})
