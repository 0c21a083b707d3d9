import type { ChatMessage, ServerMessage } from '@chat/contract'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { useChatStore } from './chat'

class FakeWebSocket {
  static last: FakeWebSocket
  readyState = 1
  sent: { type: string; clientId?: string; before?: number }[] = []
  onmessage: ((event: { data: string }) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  constructor() {
    FakeWebSocket.last = this
  }
  send(data: string) {
    this.sent.push(JSON.parse(data))
  }
  close() {}
  receive(message: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(message) })
  }
}

const alice = { id: '1', email: 'alice@example.com' }
const bob = { id: '2', email: 'bob@example.com' }

describe('chat store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    vi.stubGlobal('WebSocket', FakeWebSocket)
  })
  afterEach(() => vi.unstubAllGlobals())

  function started() {
    const chat = useChatStore()
    chat.start('ws://test/ws')
    FakeWebSocket.last.receive({
      type: 'welcome',
      user: alice,
      rooms: ['general'],
      heartbeatMs: 30_000,
      server: 's1',
    })
    return chat
  }

  it('shows an own message as pending, then as sent in its place once stored', () => {
    const chat = started()
    expect(chat.status).toBe('open')
    expect(chat.send('hello')).toBe(true)
    expect(chat.send('   ')).toBe(false)
    const clientId = FakeWebSocket.last.sent.find((frame) => frame.type === 'send')!.clientId!
    expect(chat.messages.map((m) => [m.text, m.state])).toEqual([['hello', 'pending']])
    const stored = { room: 'general', seq: 2, id: '2', clientId, text: 'hello', at: new Date().toISOString() }
    FakeWebSocket.last.receive({ type: 'message', ...stored, author: alice })
    FakeWebSocket.last.receive({
      type: 'message',
      ...stored,
      seq: 3,
      id: '3',
      clientId: 'b1',
      text: 'hi',
      author: bob,
    })
    expect(chat.messages.map((m) => [m.text, m.state])).toEqual([
      ['hello', 'sent'],
      ['hi', 'sent'],
    ])
  })

  it('tracks presence and who else is typing in the current room', () => {
    const chat = started()
    FakeWebSocket.last.receive({ type: 'joined', room: 'general', online: [alice, bob] })
    expect(chat.online).toEqual([alice, bob])
    FakeWebSocket.last.receive({ type: 'typing', room: 'general', user: bob, typing: true })
    FakeWebSocket.last.receive({ type: 'typing', room: 'general', user: alice, typing: true })
    expect(chat.typing).toEqual([bob])
    FakeWebSocket.last.receive({ type: 'typing', room: 'general', user: bob, typing: false })
    expect(chat.typing).toEqual([])
  })

  it('hands a 4001 close to the page as "session ended"', () => {
    const chat = useChatStore()
    const ended = vi.fn()
    chat.start('ws://test/ws', ended)
    FakeWebSocket.last.onclose?.({ code: 4001, reason: 'session ended' })
    expect(chat.status).toBe('ended')
    expect(ended).toHaveBeenCalledWith('session ended')
  })

  const stored = (seq: number): ChatMessage => ({
    room: 'general',
    seq,
    id: String(seq),
    author: bob,
    clientId: `b${seq}`,
    text: `text ${seq}`,
    at: new Date(0).toISOString(),
  })

  it('offers older messages while the server has them, and puts each page above what is shown', () => {
    const chat = started()
    const messages = [stored(101), stored(102)]
    FakeWebSocket.last.receive({ type: 'history', room: 'general', messages, done: true, hasOlder: true })
    expect(chat.hasOlder).toBe(true)
    chat.loadOlder()
    expect(FakeWebSocket.last.sent.at(-1)).toEqual({ type: 'history', room: 'general', before: 101 })
    const older = [stored(99), stored(100)]
    FakeWebSocket.last.receive({
      type: 'history',
      room: 'general',
      before: 101,
      messages: older,
      done: false,
      hasOlder: false,
    })
    expect(chat.messages.map((m) => m.seq)).toEqual([99, 100, 101, 102])
    expect(chat.hasOlder).toBe(false)
  })

  it('refuses control characters before sending, and shows a message the server refused as not sent', () => {
    const chat = started()
    const sends = () => FakeWebSocket.last.sent.filter((frame) => frame.type === 'send')
    expect(chat.send('a\u0000b')).toBe(false)
    expect(chat.send('\u001b[31mred')).toBe(false)
    expect(sends()).toEqual([])
    expect(chat.lastError).toContain('control characters')
    expect(chat.send('two\nlines\tand a tab')).toBe(true)
    const clientId = sends()[0]!.clientId!
    FakeWebSocket.last.receive({ type: 'error', code: 'invalid_message', message: 'refused', ref: clientId })
    expect(chat.messages.map((m) => m.state)).toEqual(['failed'])
  })
})
