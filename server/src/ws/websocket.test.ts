import { HISTORY_PAGE_MAX, type ChatMessage } from '@chat/contract'
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { newEmail, postJson, sleep, startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket, refusedStatus, type TestSocket } from '../test/ws-client.ts'

async function listen(t: TestApp): Promise<string> {
  const address = await t.app.listen({ host: '127.0.0.1', port: 0 })
  return `${address.replace('http', 'ws')}/ws`
}

async function register(t: TestApp): Promise<string> {
  const response = await postJson(t.app, '/api/v1.0/user/register', {
    email: newEmail(),
    password: 'a-good-password',
  })
  return response.json().data.access_token
}

const chat = (url: string, token: string, options = {}) =>
  openSocket(url, ['chat.v1', `bearer.${token}`], options)
const json = (socket: TestSocket, message: unknown) => socket.socket.send(JSON.stringify(message))

describe.each(backends)('/ws on $name', (backend) => {
  let t: TestApp
  let url: string
  let token: string
  const sockets: TestSocket[] = []
  const track = (socket: TestSocket) => (sockets.push(socket), socket)

  beforeAll(async () => {
    t = await startTestApp(backend, {
      WS_MAX_CONNECTIONS_PER_USER: '3',
      WS_MAX_MESSAGE_BYTES: '4096',
      WS_MESSAGES_PER_SECOND: '5',
      WS_ALLOWED_ORIGINS: 'https://chat.example.com',
    })
    url = await listen(t)
    token = await register(t)
  })
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.socket.terminate()
  })
  afterAll(() => t?.close())

  describe('the echo protocol', () => {
    it('answers every non-empty text byte for byte, ignores an empty one, and closes on /out with 1000', async () => {
      const socket = track(await openSocket(`${url}?token=${token}`))
      expect(socket.socket.protocol).toBe('')
      const texts = ['hello', 'ünïcødé 🚀 "quotes" \\ <b>', 'line one\nline two', 'x'.repeat(4000)]
      socket.socket.send('')
      for (const text of texts) socket.socket.send(text)
      for (const text of texts) expect(await socket.next(() => true)).toBe(`I've received: ${text}`)
      expect(socket.received).toHaveLength(texts.length)
      socket.socket.send('/out')
      expect(await socket.closed).toMatchObject({ code: 1000 })
    })

    it('closes on a binary frame with 1003', async () => {
      const socket = track(await openSocket(`${url}?token=${token}`))
      socket.socket.send(Buffer.from([1, 2, 3]))
      expect((await socket.closed).code).toBe(1003)
    })

    it('accepts the session cookie from the same origin or an allowed one', async () => {
      for (const origin of [url.replace('ws', 'http').replace('/ws', ''), 'https://chat.example.com']) {
        const socket = track(
          await openSocket(url, undefined, { headers: { cookie: `session=${token}`, origin } }),
        )
        socket.socket.send('cookie')
        expect(await socket.next(() => true)).toBe("I've received: cookie")
        socket.socket.close()
      }
    })
  })

  describe('authentication before the upgrade', () => {
    it('answers 401, not 101, to a missing, unknown or malformed token, however it is carried', async () => {
      expect(await refusedStatus(url)).toBe(401)
      for (const bad of ['A'.repeat(43), 'not a token', '']) {
        expect(await refusedStatus(`${url}?token=${encodeURIComponent(bad)}`)).toBe(401)
        expect(
          await refusedStatus(url, undefined, {
            headers: { cookie: `session=${bad}`, origin: 'https://chat.example.com' },
          }),
        ).toBe(401)
      }
      expect(await refusedStatus(url, ['chat.v1', `bearer.${'A'.repeat(43)}`])).toBe(401)
    })

    it('answers 401 to a token that was logged out', async () => {
      const ended = await register(t)
      await postJson(t.app, '/api/v1.0/user/logout', {}, { authorization: `Bearer ${ended}` })
      expect(await refusedStatus(`${url}?token=${ended}`)).toBe(401)
      expect(await refusedStatus(url, ['chat.v1', `bearer.${ended}`])).toBe(401)
    })

    it('answers 403 to the cookie from the same host under another scheme (ASVS 5.0 V4.4.2)', async () => {
      const host = url.replace('ws://', '').replace('/ws', '')
      expect(
        await refusedStatus(url, undefined, {
          headers: { cookie: `session=${token}`, origin: `https://${host}` },
        }),
      ).toBe(403)
      const sameOrigin = track(
        await openSocket(url, undefined, {
          headers: { cookie: `session=${token}`, origin: `http://${host}` },
        }),
      )
      sameOrigin.socket.send('same origin')
      expect(await sameOrigin.next(() => true)).toBe("I've received: same origin")
    })

    it('answers 400 to a ?token= that is not one string', async () => {
      expect(await refusedStatus(`${url}?token=${token}&token=${token}`)).toBe(400)
    })

    it('answers 403 to the cookie from another origin or from no origin', async () => {
      expect(
        await refusedStatus(url, undefined, {
          headers: { cookie: `session=${token}`, origin: 'https://evil.example' },
        }),
      ).toBe(403)
      expect(await refusedStatus(url, undefined, { headers: { cookie: `session=${token}` } })).toBe(403)
    })

    it('answers 400 to an unknown subprotocol, and to a bearer token without chat.v1', async () => {
      expect(await refusedStatus(`${url}?token=${token}`, ['mqtt'])).toBe(400)
      expect(await refusedStatus(url, [`bearer.${token}`])).toBe(400)
    })

    it('selects chat.v1 and never echoes the token back', async () => {
      const socket = track(await chat(url, token))
      expect(socket.socket.protocol).toBe('chat.v1')
      expect(await socket.nextOfType('welcome')).toMatchObject({
        type: 'welcome',
        rooms: expect.arrayContaining(['general']),
      })
    })

    it('answers 429 past the per-user connection cap, and accepts again once one closes', async () => {
      const own = await register(t)
      const open = [await chat(url, own), await chat(url, own), await chat(url, own)].map(track)
      expect(await refusedStatus(url, ['chat.v1', `bearer.${own}`])).toBe(429)
      open[0]!.socket.close()
      await open[0]!.closed
      track(await chat(url, own))
    })

    it('never writes the token of a ?token= URL to the log', async () => {
      track(await openSocket(`${url}?token=${token}`))
      expect(t.logs.join('')).not.toContain(token)
    })
  })

  describe('chat.v1 limits and bad input', () => {
    it('answers malformed JSON, unknown types, bad fields and binary frames with an error frame, and carries on', async () => {
      const socket = track(await chat(url, await register(t)))
      await socket.nextOfType('welcome')
      const cases: [() => void, string][] = [
        [() => socket.socket.send('{not json'), 'malformed_json'],
        [() => json(socket, { type: 'dance' }), 'unknown_type'],
        [() => json(socket, { type: 'join', room: 'Not A Room' }), 'invalid_message'],
        [() => socket.socket.send(Buffer.from('{}')), 'binary_unsupported'],
        [() => json(socket, { type: 'send', room: 'general', clientId: 'a', text: 'x' }), 'not_joined'],
      ]
      for (const [send, code] of cases) {
        send()
        expect(await socket.nextOfType('error', (m: { code: string }) => m.code === code)).toMatchObject({
          code,
        })
        await sleep(250) // stay within 5 messages a second
      }
      json(socket, { type: 'join', room: 'no-such-room' })
      expect(
        await socket.nextOfType('error', (m: { code: string }) => m.code === 'unknown_room'),
      ).toBeDefined()
      await sleep(250)
      json(socket, { type: 'rooms' })
      expect(await socket.nextOfType('rooms')).toMatchObject({ rooms: expect.arrayContaining(['general']) })
    })

    it('answers unknown_type to inherited property names, not a crash or a match', async () => {
      const socket = track(await chat(url, await register(t)))
      await socket.nextOfType('welcome')
      for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        socket.socket.send(`{"type":${JSON.stringify(type)}}`)
        const error = await socket.nextOfType<{ code: string; message: string }>('error')
        expect(error.code, type).toBe('unknown_type')
        await sleep(250)
      }
    })

    it('refuses a message with NUL or another control character as invalid_message, with its ref, and stores newline and tab', async () => {
      const socket = track(await chat(url, await register(t)))
      await socket.nextOfType('welcome')
      json(socket, { type: 'join', room: 'general' })
      await socket.nextOfType('joined')
      for (const [clientId, text] of [
        ['nul', 'a\u0000b'],
        ['escape', '\u001b[31mred'],
        ['carriage-return', 'a\rb'],
        ['c1', 'a\u0085b'],
        ['delete', 'a\u007fb'],
      ] as const) {
        await sleep(250)
        json(socket, { type: 'send', room: 'general', clientId, text })
        const error = await socket.nextOfType<{ code: string; ref: string; message: string }>('error')
        expect(error, clientId).toMatchObject({ code: 'invalid_message', ref: clientId })
        expect(error.message).toContain('control characters')
      }
      await sleep(250)
      json(socket, { type: 'send', room: 'general', clientId: 'fine', text: 'two\nlines\tand a tab' })
      expect(await socket.nextOfType('ack', (m: { clientId: string }) => m.clientId === 'fine')).toBeDefined()
      const stored = await socket.nextOfType<ChatMessage>('message', (m) => m.clientId === 'fine')
      expect(stored.text).toBe('two\nlines\tand a tab')
    })

    it('logs an unexpected error once with room, connection and user, and answers unavailable with the ref', async () => {
      const socket = track(await chat(url, await register(t)))
      const welcome = await socket.nextOfType<{ user: { id: string } }>('welcome')
      json(socket, { type: 'join', room: 'general' })
      await socket.nextOfType('joined')
      await sql`alter table messages rename to messages_away`.execute(t.app.db)
      try {
        json(socket, { type: 'send', room: 'general', clientId: 'doomed', text: 'nowhere to go' })
        expect(await socket.nextOfType('error')).toMatchObject({ code: 'unavailable', ref: 'doomed' })
      } finally {
        await sql`alter table messages_away rename to messages`.execute(t.app.db)
      }
      const lines = t.logs
        .flatMap((chunk) => chunk.split('\n'))
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === 'chat request failed' && line.ref === 'doomed')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({
        level: 50,
        room: 'general',
        type: 'send',
        userId: welcome.user.id,
        connectionId: expect.any(String),
        err: { message: expect.stringContaining('messages') },
      })
    })

    it('closes with 1009 on a message over the size limit', async () => {
      const socket = track(await chat(url, token))
      json(socket, { type: 'send', room: 'general', clientId: 'big', text: 'x'.repeat(5000) })
      expect((await socket.closed).code).toBe(1009)
    })

    it('answers a flood with rate_limited, then closes it with 1008, while others carry on', async () => {
      const [flooderToken, bystanderToken] = [await register(t), await register(t)]
      const flooder = track(await chat(url, flooderToken))
      const bystander = track(await chat(url, bystanderToken))
      await bystander.nextOfType('welcome')
      for (let i = 0; i < 60; i++) json(flooder, { type: 'rooms' })
      expect(
        await flooder.nextOfType('error', (m: { code: string }) => m.code === 'rate_limited'),
      ).toBeDefined()
      expect((await flooder.closed).code).toBe(1008)
      json(bystander, { type: 'rooms' })
      expect(await bystander.nextOfType('rooms')).toBeDefined()
    })
  })
})

describe('/ws behind a trusted proxy', () => {
  let t: TestApp

  afterAll(() => t?.close())

  it('takes the scheme from X-Forwarded-Proto for the origin check (ASVS 5.0 V4.4.2)', async () => {
    t = await startTestApp(backends.at(-1)!, { TRUSTED_PROXIES: '127.0.0.1' })
    const url = await listen(t)
    const token = await register(t)
    const host = url.replace('ws://', '').replace('/ws', '')
    const viaTls = { cookie: `session=${token}`, 'x-forwarded-proto': 'https' }
    const socket = await openSocket(url, undefined, { headers: { ...viaTls, origin: `https://${host}` } })
    socket.socket.send('through the proxy')
    expect(await socket.next(() => true)).toBe("I've received: through the proxy")
    socket.socket.close()
    expect(await refusedStatus(url, undefined, { headers: { ...viaTls, origin: `http://${host}` } })).toBe(
      403,
    )
  })
})

describe.each(backends)('chat.v1 history in bounded pages on $name', (backend) => {
  const ROOM_SIZE = 3_000
  let t: TestApp
  let url: string
  let socket: TestSocket
  const room = 'big-room'

  beforeAll(async () => {
    t = await startTestApp(backend, { WS_MESSAGES_PER_SECOND: '50' })
    url = await listen(t)
    socket = await chat(url, await register(t))
    const welcome = await socket.nextOfType<{ user: { id: string } }>('welcome')
    json(socket, { type: 'create_room', room })
    await socket.nextOfType('room_created')
    // in bulk through SQL: thousands of sends would take the test's time, not the server's
    await sql`
      insert into messages (room_id, seq, user_id, client_id, body)
      select r.id, g, ${welcome.user.id}, 'bulk-' || g, 'message ' || g
      from rooms r, generate_series(1, ${ROOM_SIZE}) g where r.name = ${room}
    `.execute(t.app.db)
    await sql`update rooms set last_seq = ${ROOM_SIZE} where name = ${room}`.execute(t.app.db)
  })
  afterAll(async () => {
    socket?.socket.terminate()
    await t?.close()
  })

  type Page = { messages: ChatMessage[]; done: boolean; hasOlder: boolean }
  const seqs = (page: Page) => page.messages.map((message) => message.seq)
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
  const nextPage = () => socket.nextOfType<Page>('history')

  it('answers join since 0 with one page of the oldest 500, says more follow, and pages on with after', async () => {
    json(socket, { type: 'join', room, since: 0 })
    const first = await nextPage()
    await socket.nextOfType('joined')
    expect(seqs(first)).toEqual(range(1, HISTORY_PAGE_MAX))
    expect(first).toMatchObject({ done: false, hasOlder: false })
    const seen = [...seqs(first)]
    for (let pages = 1; ; pages++) {
      expect(pages).toBeLessThanOrEqual(ROOM_SIZE / HISTORY_PAGE_MAX)
      json(socket, { type: 'history', room, after: seen.at(-1) })
      const page = await nextPage()
      expect(page.messages.length).toBeLessThanOrEqual(HISTORY_PAGE_MAX)
      expect(page.hasOlder).toBe(true)
      seen.push(...seqs(page))
      if (page.done) break
    }
    expect(seen).toEqual(range(1, ROOM_SIZE))
  })

  it('answers join without since with the newest messages and hasOlder, and pages back with before', async () => {
    json(socket, { type: 'join', room })
    const newest = await nextPage()
    await socket.nextOfType('joined')
    expect(seqs(newest)).toEqual(range(ROOM_SIZE - 49, ROOM_SIZE))
    expect(newest).toMatchObject({ done: true, hasOlder: true })
    json(socket, { type: 'history', room, before: ROOM_SIZE - 49, limit: 100 })
    const older = await nextPage()
    expect(seqs(older)).toEqual(range(ROOM_SIZE - 149, ROOM_SIZE - 50))
    expect(older).toMatchObject({ done: false, hasOlder: true, before: ROOM_SIZE - 49 })
    json(socket, { type: 'history', room, before: 201 })
    const oldest = await nextPage()
    expect(seqs(oldest)).toEqual(range(1, 200))
    expect(oldest).toMatchObject({ hasOlder: false })
  })

  it('refuses a page over 500, both cursors at once, and history of a room not joined', async () => {
    const cases: [unknown, string][] = [
      [{ type: 'history', room, after: 0, limit: HISTORY_PAGE_MAX + 1 }, 'invalid_message'],
      [{ type: 'history', room, after: 0, before: 10 }, 'invalid_message'],
      [{ type: 'history', room: 'general', after: 0 }, 'not_joined'],
    ]
    for (const [message, code] of cases) {
      json(socket, message)
      expect(await socket.nextOfType('error')).toMatchObject({ code })
    }
  })
})

describe('/ws heartbeat, slow readers and shutdown', () => {
  let t: TestApp | undefined
  afterEach(() => t?.close())

  it('keeps a healthy idle connection past many pings, and drops one that stops answering within two intervals', async () => {
    t = await startTestApp(backends[1]!, { API_WEBSOCKET_TIMEOUT: '0.3' })
    const url = await listen(t)
    const token = await register(t)
    const healthy = await openSocket(`${url}?token=${token}`)
    let pings = 0
    healthy.socket.on('ping', () => pings++)
    const silent = await openSocket(`${url}?token=${token}`, undefined, { autoPong: false })
    const started = Date.now()
    const { code } = await silent.closed
    expect(code).toBe(1006)
    expect(Date.now() - started).toBeLessThan(1_000)
    await sleep(1_500)
    expect(healthy.socket.readyState).toBe(healthy.socket.OPEN)
    expect(pings).toBeGreaterThanOrEqual(4)
    healthy.socket.close()
  })

  // a shared 2-core machine may need a while to push megabytes through the kernel's socket buffers
  it(
    'cuts off a client that stops reading once its buffer passes the limit, and the sender carries on',
    { timeout: 90_000 },
    async () => {
      t = await startTestApp(backends[1]!, { WS_SEND_BUFFER_LIMIT: '65536', WS_MESSAGES_PER_SECOND: '1000' })
      const url = await listen(t)
      const [senderToken, slowToken] = [await register(t), await register(t)]
      const sender = await chat(url, senderToken)
      const slow = await chat(url, slowToken)
      for (const socket of [sender, slow]) {
        json(socket, { type: 'join', room: 'general' })
        await socket.nextOfType('joined')
      }
      ;(slow.socket as unknown as { _socket: { pause(): void } })._socket.pause()
      // the kernel's socket buffers swallow a few megabytes before the server's own buffer grows
      // (8 KB a message: 2,000 two-unit characters of four UTF-8 bytes each, within the 4,000-unit limit)
      const text = '🙂'.repeat(2_000)
      const deadline = Date.now() + 75_000
      const cutOff = () => t!.logs.some((line) => line.includes('slow WebSocket reader cut off'))
      // in batches: a connection's sends are stored one after another, so only the batch's last ack is awaited
      const BATCH = 25
      for (let i = 0; i < 5_000 && !cutOff() && Date.now() < deadline; i += BATCH) {
        for (let j = i; j < i + BATCH; j++)
          json(sender, { type: 'send', room: 'general', clientId: `flood-${j}`, text })
        await sender.nextOfType(
          'ack',
          (m: { clientId: string }) => m.clientId === `flood-${i + BATCH - 1}`,
          20_000,
        )
      }
      expect(cutOff()).toBe(true)
      json(sender, { type: 'rooms' })
      expect(await sender.nextOfType('rooms')).toBeDefined()
      sender.socket.close()
      slow.socket.terminate()
    },
  )

  it('closes every socket with 1001 when the server shuts down', async () => {
    t = await startTestApp(backends[1]!)
    const url = await listen(t)
    const token = await register(t)
    const echo = await openSocket(`${url}?token=${token}`)
    const chatSocket = await chat(url, token)
    await t.close()
    t = undefined
    expect((await echo.closed).code).toBe(1001)
    expect((await chatSocket.closed).code).toBe(1001)
  })
})
