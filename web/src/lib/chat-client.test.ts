import { CloseCode, type ChatMessage, type MessageUpdate, type ServerMessage } from '@chat/contract'
import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff'
import { ChatClient, type ChatEvents, type ConnectionStatus, type SocketLike } from './chat-client'

class FakeSocket implements SocketLike {
  readyState = 0
  sent: Record<string, unknown>[] = []
  onopen: SocketLike['onopen'] = null
  onmessage: SocketLike['onmessage'] = null
  onclose: SocketLike['onclose'] = null
  constructor(readonly protocols: string[]) {}
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>)
  }
  close() {
    this.readyState = 3
  }
  /** the server accepts and says welcome */
  accept(messagesPerSecond?: number) {
    this.readyState = 1
    this.receive({
      type: 'welcome',
      user: alice,
      rooms: ['general'],
      heartbeatMs: 30_000,
      server: 's1',
      ...(messagesPerSecond === undefined ? {} : { messagesPerSecond }),
    })
  }
  receive(message: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(message) })
  }
  drop(code = 1006, reason = '') {
    this.readyState = 3
    this.onclose?.({ code, reason })
  }
}

const alice = { id: '1', name: 'Alice', verified: true }
const message = (seq: number, clientId = `c${seq}`): ChatMessage => ({
  room: 'general',
  seq,
  id: String(seq),
  author: alice,
  clientId,
  text: `text ${seq}`,
  at: new Date(0).toISOString(),
})

function harness(checkSession?: () => Promise<boolean | undefined>) {
  const sockets: FakeSocket[] = []
  const timers: { callback: () => void; ms: number }[] = []
  const clock = { now: 0 }
  const statuses: ConnectionStatus[] = []
  const delivered: number[] = []
  const acked: string[] = []
  const older: { seqs: number[]; hasOlder: boolean }[] = []
  const errors: string[] = []
  /** messages and events in the order given: `m<seq>` a message, `u<seq>` an update */
  const log: string[] = []
  const windows: { seqs: number[]; direction: string; more: boolean }[] = []
  const events: ChatEvents = {
    status: (status) => statuses.push(status),
    welcome: () => {},
    roomList: () => {},
    roomChanged: () => {},
    roomRemoved: () => {},
    activity: () => {},
    read: () => {},
    members: () => {},
    users: () => {},
    directRoom: () => {},
    messages: (_room, messages) => {
      delivered.push(...messages.map((m) => m.seq))
      log.push(...messages.map((m) => `m${m.seq}`))
    },
    updated: (_room, update) => log.push(`u${update.seq}`),
    editHistory: () => {},
    window: (_room, messages, direction, more) =>
      windows.push({ seqs: messages.map((m) => m.seq), direction, more }),
    older: (_room, messages, hasOlder) => older.push({ seqs: messages.map((m) => m.seq), hasOlder }),
    acked: (clientId) => acked.push(clientId),
    joined: () => {},
    presence: () => {},
    typing: () => {},
    error: (code) => errors.push(code),
  }
  const client = new ChatClient(
    {
      url: 'ws://test/ws',
      openSocket: (_url, protocols) => {
        const socket = new FakeSocket(protocols)
        sockets.push(socket)
        return socket
      },
      setTimer: (callback, ms) => timers.push({ callback, ms }),
      clearTimer: () => {},
      random: () => 0.5,
      now: () => clock.now,
      ...(checkSession ? { checkSession } : {}),
    },
    events,
  )
  const runTimer = () => timers.shift()!.callback()
  const last = () => sockets.at(-1)!
  const sentTexts = () =>
    last()
      .sent.filter((frame) => frame.type === 'send')
      .map((frame) => frame.text)
  return {
    client,
    sockets,
    timers,
    clock,
    statuses,
    delivered,
    acked,
    older,
    errors,
    log,
    windows,
    runTimer,
    last,
    sentTexts,
  }
}

const update = (seq: number, target: number): MessageUpdate => ({
  room: 'general',
  seq,
  change: 'edited',
  by: alice,
  message: { ...message(target), text: `edited at ${seq}` },
})

describe('ChatClient and the events of the log (edits, deletions, reactions)', () => {
  /** a client in general, connected, with the room's first page given */
  function joined(first: ChatMessage[]) {
    const h = harness()
    h.client.join('general')
    h.client.connect()
    h.last().accept()
    h.last().receive({ type: 'history', room: 'general', messages: first, done: true, hasOlder: true })
    return h
  }

  it('applies a live update after the messages before it, and once', () => {
    const { last, log } = joined([message(1), message(2)])
    last().receive({ type: 'message_updated', ...update(3, 1) })
    // the same event again (a repeated delivery) is dropped by its seq
    last().receive({ type: 'message_updated', ...update(3, 1) })
    expect(log).toEqual(['m1', 'm2', 'u3'])
  })

  it('resumes after the last event too, and drops an event it has already applied', () => {
    const h = joined([message(1)])
    h.last().receive({ type: 'message_updated', ...update(2, 1) })
    h.last().drop()
    h.runTimer()
    h.last().accept()
    expect(h.last().sent.find((frame) => frame.type === 'join')).toMatchObject({ since: 2 })
    h.last().receive({
      type: 'history',
      room: 'general',
      messages: [message(3), message(5)],
      updates: [update(2, 1), update(4, 3)],
      done: true,
      hasOlder: true,
    })
    h.last().receive({ type: 'message_updated', ...update(4, 3) })
    h.last().receive({ type: 'message_updated', ...update(6, 5) })
    expect(h.log).toEqual(['m1', 'u2', 'm3', 'u4', 'm5', 'u6'])
  })

  it('names changes and edit_history questions by a new ref, and returns none when nothing could go out', () => {
    const { client, last } = joined([message(1)])
    const refs = [
      client.edit('general', 1, 'new text'),
      client.remove('general', 1),
      client.react('general', 1, '🎉', true),
      client.editHistory('general', 1),
    ]
    expect(new Set(refs).size).toBe(4)
    expect(
      last()
        .sent.slice(-4)
        .map(({ type, ref }) => ({ type, ref })),
    ).toEqual(['edit', 'delete', 'react', 'edit_history'].map((type, index) => ({ type, ref: refs[index] })))
    last().drop()
    const sentBefore = last().sent.length
    expect([
      client.edit('general', 1, 'offline'),
      client.remove('general', 1),
      client.react('general', 1, '🎉', false),
      client.editHistory('general', 1),
      client.request({ type: 'members', room: 'general', query: 'a' }),
    ]).toEqual([undefined, undefined, undefined, undefined, false])
    expect(last().sent).toHaveLength(sentBefore)
  })

  it('keeps the pages around a message jumped to apart from the live list', () => {
    const h = joined([message(300)])
    h.client.around('general', 20)
    expect(h.last().sent.filter((frame) => frame.type === 'history')).toEqual([
      { type: 'history', room: 'general', before: 21, limit: 25 },
      { type: 'history', room: 'general', after: 20, limit: 25 },
    ])
    h.last().receive({
      type: 'history',
      room: 'general',
      messages: [message(19), message(20)],
      done: false,
      hasOlder: true,
      before: 21,
    })
    h.last().receive({
      type: 'history',
      room: 'general',
      messages: [message(21)],
      done: false,
      hasOlder: true,
      after: 20,
    })
    expect(h.windows).toEqual([
      { seqs: [19, 20], direction: 'before', more: true },
      { seqs: [21], direction: 'after', more: true },
    ])
    expect(h.delivered).toEqual([300])
  })
})

describe('backoffDelay', () => {
  it('grows exponentially with jitter between half and all of the ceiling, up to the maximum', () => {
    expect(backoffDelay(0, () => 0)).toBe(250)
    expect(backoffDelay(0, () => 1)).toBe(500)
    expect(backoffDelay(3, () => 0.5)).toBe(3_000)
    expect(backoffDelay(20, () => 1)).toBe(5_000)
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4)))
    expect(delays.size).toBeGreaterThan(10)
  })
})

describe('ChatClient', () => {
  it('speaks chat.v1 and reports its status', () => {
    const h = harness()
    h.client.connect()
    expect(h.last().protocols).toEqual(['chat.v1'])
    expect(h.statuses).toEqual(['connecting'])
    h.last().accept()
    expect(h.statuses).toEqual(['connecting', 'open'])
  })

  it('reconnects with growing delays after drops, and resets them once connected', () => {
    const h = harness()
    h.client.connect()
    h.last().drop()
    expect(h.statuses.at(-1)).toBe('reconnecting')
    h.runTimer()
    h.last().drop()
    h.runTimer()
    h.last().drop()
    expect(h.timers.map((t) => t.ms)).toEqual([backoffDelay(2, () => 0.5)])
    h.runTimer()
    h.last().accept()
    h.last().drop()
    expect(h.timers.map((t) => t.ms)).toEqual([backoffDelay(0, () => 0.5)])
    expect(h.sockets).toHaveLength(4)
  })

  it('stops for good on 4001, session ended, and says so', () => {
    const h = harness()
    h.client.connect()
    h.last().accept()
    h.last().drop(CloseCode.sessionEnded, 'session ended')
    expect(h.statuses.at(-1)).toBe('ended')
    expect(h.timers).toHaveLength(0)
  })

  it('rejoins with the last seq it has after a reconnect, and shows each message once', () => {
    const h = harness()
    h.client.join('general')
    h.client.connect()
    h.last().accept()
    expect(h.last().sent).toEqual([{ type: 'join', room: 'general' }])
    h.last().receive({
      type: 'history',
      room: 'general',
      messages: [message(1), message(2)],
      done: true,
      hasOlder: false,
    })
    h.last().receive({ type: 'message', ...message(3) })
    h.last().drop()
    h.runTimer()
    h.last().accept()
    expect(h.last().sent).toEqual([{ type: 'join', room: 'general', since: 3 }])
    // an overlapping resume does not show 3 twice
    h.last().receive({
      type: 'history',
      room: 'general',
      messages: [message(3), message(4)],
      done: true,
      hasOlder: true,
    })
    expect(h.delivered).toEqual([1, 2, 3, 4])
  })

  it('sends again, with the same client id, what was not acknowledged before a drop', () => {
    const h = harness()
    h.client.join('general')
    h.client.connect()
    h.last().accept()
    const first = h.client.send('general', 'acked before the drop')
    const second = h.client.send('general', 'lost in the drop')
    h.last().receive({ type: 'ack', room: 'general', clientId: first, id: '1', seq: 1, at: '' })
    h.last().drop()
    const offline = h.client.send('general', 'written while offline')
    h.runTimer()
    h.last().accept()
    const resent = h
      .last()
      .sent.filter((frame) => frame.type === 'send')
      .map((frame) => frame.clientId)
    expect(resent).toEqual([second, offline])
    expect(h.acked).toEqual([first])
  })

  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
  const page = (from: number, to: number) => range(from, to).map((seq) => message(seq))

  it('pages forward with history after when a resume missed more than a page, holding live ones: no gap', () => {
    const h = harness()
    h.client.join('general')
    h.client.connect()
    h.last().accept()
    h.last().receive({ type: 'history', room: 'general', messages: page(1, 3), done: true, hasOlder: false })
    h.last().drop()
    h.runTimer()
    h.last().accept()
    expect(h.last().sent).toEqual([{ type: 'join', room: 'general', since: 3 }])
    h.last().receive({
      type: 'history',
      room: 'general',
      messages: page(4, 503),
      done: false,
      hasOlder: true,
    })
    expect(h.last().sent.at(-1)).toEqual({ type: 'history', room: 'general', after: 503 })
    // live messages arrive while the pages are still far behind: they wait
    h.last().receive({ type: 'message', ...message(1_200) })
    h.last().receive({ type: 'message', ...message(1_201) })
    expect(h.delivered.at(-1)).toBe(503)
    const after = (seq: number) => ({ type: 'history' as const, room: 'general', after: seq, hasOlder: true })
    h.last().receive({ ...after(503), messages: page(504, 1_003), done: false })
    expect(h.last().sent.at(-1)).toEqual({ type: 'history', room: 'general', after: 1_003 })
    h.last().receive({ ...after(1_003), messages: page(1_004, 1_200), done: true })
    expect(h.delivered).toEqual(range(1, 1_201))
    expect(h.client.lastSeq('general')).toBe(1_201)
    h.last().receive({ type: 'message', ...message(1_202) })
    expect(h.delivered.at(-1)).toBe(1_202)
  })

  it('loads older messages with history before the oldest held, and passes on whether more are older', () => {
    const h = harness()
    h.client.join('general')
    h.client.connect()
    h.last().accept()
    h.last().receive({
      type: 'history',
      room: 'general',
      messages: page(951, 1_000),
      done: true,
      hasOlder: true,
    })
    expect(h.older).toEqual([{ seqs: [], hasOlder: true }])
    h.client.loadOlder('general')
    expect(h.last().sent.at(-1)).toEqual({ type: 'history', room: 'general', before: 951 })
    const before = (seq: number) => ({ type: 'history' as const, room: 'general', before: seq, done: false })
    h.last().receive({ ...before(951), messages: page(451, 950), hasOlder: true })
    h.client.loadOlder('general')
    expect(h.last().sent.at(-1)).toEqual({ type: 'history', room: 'general', before: 451 })
    h.last().receive({ ...before(451), messages: page(1, 450), hasOlder: false })
    expect(h.older.slice(1)).toEqual([
      { seqs: range(451, 950), hasOlder: true },
      { seqs: range(1, 450), hasOlder: false },
    ])
    // older pages are not the forward stream: nothing delivered twice, the resume point unchanged
    expect(h.delivered).toEqual(range(951, 1_000))
    expect(h.client.lastSeq('general')).toBe(1_000)
  })

  it('stops re-sending a message the server refused as invalid', () => {
    const h = harness()
    h.client.join('general')
    h.client.connect()
    h.last().accept()
    const refused = h.client.send('general', 'bad')
    h.last().receive({ type: 'error', code: 'invalid_message', message: 'no', ref: refused })
    const kept = h.client.send('general', 'not yet acknowledged')
    h.last().drop()
    h.runTimer()
    h.last().accept()
    const resent = h
      .last()
      .sent.filter((frame) => frame.type === 'send')
      .map((frame) => frame.clientId)
    expect(resent).toEqual([kept])
    expect(h.errors).toEqual(['invalid_message'])
  })

  it('paces sends within the rate the server said in welcome, and sends the rest when the budget refills', () => {
    const h = harness()
    h.client.join('general')
    h.client.connect()
    h.last().accept(5) // paced at 80%: 4 a second, a burst of 4
    for (let i = 1; i <= 7; i++) h.client.send('general', `m${i}`)
    expect(h.sentTexts()).toEqual(['m1', 'm2', 'm3', 'm4'])
    expect(h.timers.map((timer) => timer.ms)).toEqual([250])
    h.clock.now = 250
    h.runTimer()
    expect(h.sentTexts()).toHaveLength(5)
    h.clock.now = 1_000
    h.runTimer()
    expect(h.sentTexts()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'])
  })

  it('sends again, after a pause, a send refused as rate_limited or unavailable and not stored; drops a stored one', () => {
    const h = harness()
    h.client.join('general')
    h.client.connect()
    h.last().accept()
    const [limited, failed, stored] = ['limited', 'failed', 'stored'].map((text) =>
      h.client.send('general', text),
    )
    h.last().receive({ type: 'error', code: 'rate_limited', message: 'slow', ref: limited!, stored: false })
    h.last().receive({ type: 'error', code: 'unavailable', message: 'db', ref: failed!, stored: false })
    h.last().receive({ type: 'ack', room: 'general', clientId: stored!, id: '1', seq: 1, at: '' })
    h.last().receive({ type: 'error', code: 'unavailable', message: 'bus', ref: stored!, stored: true })
    expect(h.timers.map((timer) => timer.ms)).toEqual([1_000])
    h.clock.now = 1_000
    h.runTimer()
    expect(h.sentTexts()).toEqual(['limited', 'failed', 'stored', 'limited', 'failed'])
    // what was stored is not pending: a reconnect sends only the two refused ones again
    h.last().drop()
    h.runTimer()
    h.last().accept()
    expect(h.sentTexts()).toEqual(['limited', 'failed'])
  })

  it('asks whether the session still holds when a socket is refused before welcome, and stops if not', async () => {
    let valid: boolean | undefined = undefined
    const h = harness(async () => valid)
    h.client.connect()
    h.last().accept()
    h.last().drop(CloseCode.goingAway) // the server restarts: no need to ask
    h.runTimer()
    await Promise.resolve()
    expect(h.sockets).toHaveLength(2)
    h.last().drop() // refused before welcome, and the server is unreachable: try again
    h.runTimer()
    await Promise.resolve()
    expect(h.sockets).toHaveLength(3)
    valid = false
    h.last().drop() // refused before welcome, and GET /me says 401: the session is over
    h.runTimer()
    await Promise.resolve()
    expect(h.sockets).toHaveLength(3)
    expect(h.statuses.at(-1)).toBe('ended')
  })

  it('leaves typing frames out while the budget has no room for a send after them', () => {
    const h = harness()
    h.client.join('general')
    h.client.connect()
    h.last().accept(5) // a budget of 4
    h.client.typing('general', true)
    for (let i = 1; i <= 2; i++) h.client.send('general', `m${i}`)
    h.client.typing('general', false) // one token left: kept for a send
    const typed = () => h.last().sent.filter((frame) => frame.type === 'typing')
    expect(typed()).toEqual([{ type: 'typing', room: 'general', typing: true }])
    h.client.send('general', 'm3')
    expect(h.sentTexts()).toEqual(['m1', 'm2', 'm3'])
  })
})
