import type { ChatMessage, MessageUpdate, RoomSummary, ServerMessage } from '@chat/contract'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TYPING_EXPIRES_MS } from '@chat/contract'
import { CHANGE_NOT_SENT, MEMBER_ANSWER_LIFETIME_MS, useChatStore } from './chat'
import { useNotices } from './notices'

/** sessionStorage as a browser keeps it, for one tab */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>()
  get length() {
    return this.items.size
  }
  clear() {
    this.items.clear()
  }
  getItem(key: string) {
    return this.items.get(key) ?? null
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null
  }
  removeItem(key: string) {
    this.items.delete(key)
  }
  setItem(key: string, value: string) {
    this.items.set(key, value)
  }
}

class FakeWebSocket {
  static last: FakeWebSocket
  readyState = 1
  sent: { type: string; clientId?: string; before?: number; ref?: string; query?: string }[] = []
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

const alice = { id: '1', name: 'Alice', verified: true }
const bob = { id: '2', name: 'Bob', verified: true }

/** `general` changed, as the server tells a member: a public room, with what `summary` adds */
const generalUpdated = (summary: Partial<RoomSummary> = {}): ServerMessage => ({
  type: 'room_updated',
  summary: {
    room: 'general',
    kind: 'public',
    title: 'general',
    topic: '',
    archived: false,
    lastSeq: 0,
    ...summary,
  },
})

/** Runs `test` on fake timers (and a fake clock), then gives the real ones back. */
function onFakeTimers(test: () => void): void {
  vi.useFakeTimers()
  try {
    test()
  } finally {
    vi.useRealTimers()
  }
}

describe('chat store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    vi.stubGlobal('WebSocket', FakeWebSocket)
    vi.stubGlobal('sessionStorage', new MemoryStorage())
  })
  afterEach(() => vi.unstubAllGlobals())

  function started(user = alice) {
    const chat = useChatStore()
    chat.start('ws://test/ws')
    FakeWebSocket.last.receive({
      type: 'welcome',
      user,
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
    expect(useNotices().shown.map((notice) => notice.text)).toEqual([
      'A message may hold no control characters but newline and tab.',
    ])
    expect(chat.send('two\nlines\tand a tab')).toBe(true)
    const clientId = sends()[0]!.clientId!
    FakeWebSocket.last.receive({ type: 'error', code: 'invalid_message', message: 'refused', ref: clientId })
    expect(chat.messages.map((m) => m.state)).toEqual(['failed'])
  })

  it('stops showing a typer who stops renewing, after a few seconds', () => {
    vi.useFakeTimers()
    try {
      const chat = started()
      FakeWebSocket.last.receive({ type: 'typing', room: 'general', user: bob, typing: true })
      vi.advanceTimersByTime(TYPING_EXPIRES_MS - 100)
      FakeWebSocket.last.receive({ type: 'typing', room: 'general', user: bob, typing: true }) // renewed
      vi.advanceTimersByTime(TYPING_EXPIRES_MS - 100)
      expect(chat.typing).toEqual([bob])
      vi.advanceTimersByTime(200)
      expect(chat.typing).toEqual([])
    } finally {
      vi.useRealTimers()
    }
  })

  it('keeps unsent messages in sessionStorage and sends them, same client id, when the same user is back', () => {
    const first = started()
    first.open('random')
    expect(first.send('written before the session ended')).toBe(true)
    const clientId = FakeWebSocket.last.sent.find((frame) => frame.type === 'send')!.clientId
    first.stop()

    setActivePinia(createPinia()) // a new page: nothing kept in memory
    started(bob)
    expect(FakeWebSocket.last.sent.filter((frame) => frame.type === 'send')).toEqual([]) // not bob's to send

    setActivePinia(createPinia())
    const again = started(alice)
    expect(FakeWebSocket.last.sent).toContainEqual({ type: 'join', room: 'random' })
    const resent = FakeWebSocket.last.sent.filter((frame) => frame.type === 'send')
    expect(resent).toEqual([
      { type: 'send', room: 'random', clientId, text: 'written before the session ended' },
    ])
    FakeWebSocket.last.receive({ type: 'ack', room: 'random', clientId: clientId!, id: '1', seq: 1, at: '' })
    again.stop()
    setActivePinia(createPinia())
    started(alice)
    expect(FakeWebSocket.last.sent.filter((frame) => frame.type === 'send')).toEqual([]) // acked: gone
  })

  it('keeps a draft per room, and does not join the current room again', () => {
    const chat = started()
    chat.draft = 'for general'
    chat.open('random')
    expect(chat.draft).toBe('')
    chat.draft = 'for random'
    chat.open('general')
    expect(chat.draft).toBe('for general')
    const joins = () => FakeWebSocket.last.sent.filter((frame) => frame.type === 'join').length
    const before = joins()
    chat.open('general')
    chat.open('random')
    expect(joins()).toBe(before)
    expect(chat.draft).toBe('for random')
  })
  /** `general` holding message 1, by `author` */
  function withMessage(author = alice) {
    const chat = started()
    FakeWebSocket.last.receive({
      type: 'message',
      room: 'general',
      seq: 1,
      id: '1',
      clientId: 'c1',
      text: 'first',
      at: new Date().toISOString(),
      author,
    })
    return chat
  }
  it('shows a change saved but not announced as saved, here at once, never as a failure to try again', () => {
    const chat = withMessage()
    const notices = useNotices()
    const refOfLast = (type: string) =>
      FakeWebSocket.last.sent.filter((frame) => frame.type === type).at(-1)!.ref!

    chat.edit(1, 'first, better')
    const saved = {
      type: 'error',
      code: 'unavailable',
      message: 'Saved; others will see it when they next open the room',
    } as const
    FakeWebSocket.last.receive({ ...saved, ref: refOfLast('edit'), stored: true })
    expect(chat.messages.map((m) => [m.text, m.editedAt !== undefined])).toEqual([['first, better', true]])
    // the server's words, the one source of the sentence
    expect(notices.shown.map((notice) => notice.text)).toEqual([saved.message])
    expect(chat.editDraft).toBeUndefined()

    chat.react(1, '🎉', true)
    FakeWebSocket.last.receive({ ...saved, ref: refOfLast('react'), stored: true })
    expect(chat.messages[0]!.reactions).toEqual([{ emoji: '🎉', users: [alice] }])

    // not stored: nothing changes here, and the server's words say why
    chat.remove(1)
    const notSaved = {
      type: 'error',
      code: 'unavailable',
      message: 'The server could not do that now; try again',
    } as const
    FakeWebSocket.last.receive({ ...notSaved, ref: refOfLast('delete'), stored: false })
    expect(chat.messages[0]!.deleted).toBeUndefined()
    expect(notices.shown.map((notice) => notice.text)).toContain(
      'The server could not do that now; try again',
    )
    chat.remove(1)
    FakeWebSocket.last.receive({ ...saved, ref: refOfLast('delete'), stored: true })
    expect(chat.messages.map((m) => [m.text, m.deleted])).toEqual([['', true]])
  })

  const sentOf = (type: string) => FakeWebSocket.last.sent.filter((frame) => frame.type === type)

  it('keeps the text of an edit that was not saved, for the editor to open on again', () => {
    const chat = withMessage()
    const notices = useNotices()
    chat.edit(1, 'first, better')
    FakeWebSocket.last.receive({
      type: 'error',
      code: 'rate_limited',
      message: 'Slow down: at most 5 messages a second',
      ref: sentOf('edit').at(-1)!.ref!,
      stored: false,
    })
    expect(chat.messages[0]!.text).toBe('first')
    expect(chat.editDraft).toEqual({ room: 'general', seq: 1, text: 'first, better' })
    expect(notices.shown.map((notice) => notice.text)).toEqual(['Slow down: at most 5 messages a second'])
    chat.takeEditDraft()
    expect(chat.editDraft).toBeUndefined()
  })

  it('says a change asked for while not connected was not saved, and keeps an edit’s text', () => {
    const chat = withMessage()
    const notices = useNotices()
    FakeWebSocket.last.readyState = 3 // closed: nothing goes out
    const said = (change: () => void) => {
      notices.clear()
      change()
      return notices.shown.map((notice) => notice.text)
    }
    expect(said(() => chat.edit(1, 'written offline'))).toEqual([CHANGE_NOT_SENT])
    expect(said(() => chat.react(1, '🎉', true))).toEqual([CHANGE_NOT_SENT])
    expect(said(() => chat.remove(1))).toEqual([CHANGE_NOT_SENT])
    expect(sentOf('edit').concat(sentOf('react'), sentOf('delete'))).toEqual([])
    expect(chat.editDraft).toEqual({ room: 'general', seq: 1, text: 'written offline' })
    expect(chat.messages[0]).toMatchObject({ text: 'first' })
    expect(chat.messages[0]!.reactions).toBeUndefined()
  })

  it('says why the earlier texts did not come, by the question’s ref, and asks again on "Try again"', () => {
    const chat = withMessage(bob)
    chat.showEditHistory(1)
    const first = sentOf('edit_history').at(-1)!
    expect(first).toMatchObject({ room: 'general', seq: 1 })
    // an error about something else neither closes the dialog nor fails it
    FakeWebSocket.last.receive({ type: 'error', code: 'forbidden', message: 'Not yours', ref: 'other' })
    FakeWebSocket.last.receive({ type: 'error', code: 'unknown_message', message: 'No such message' })
    expect(chat.editHistory).toMatchObject({ room: 'general', seq: 1, edits: undefined })
    expect(chat.editHistory?.failed).toBeUndefined()
    FakeWebSocket.last.receive({
      type: 'error',
      code: 'rate_limited',
      message: 'Slow down: at most 5 messages a second',
      ref: first.ref!,
    })
    expect(chat.editHistory).toMatchObject({
      edits: undefined,
      failed: 'Slow down: at most 5 messages a second',
    })
    chat.retryEditHistory()
    const second = sentOf('edit_history').at(-1)!
    expect(second.ref).not.toBe(first.ref)
    expect(chat.editHistory?.failed).toBeUndefined()
    const edits = [{ text: 'zeroth', at: new Date(0).toISOString() }]
    FakeWebSocket.last.receive({ type: 'edit_history', room: 'general', seq: 1, edits })
    expect(chat.editHistory).toMatchObject({ edits })
    expect(chat.editHistory?.failed).toBeUndefined()
  })

  it('fails the earlier texts asked for when the connection goes or is not there, instead of loading for ever', () => {
    onFakeTimers(() => {
      const chat = withMessage(bob)
      chat.showEditHistory(1)
      FakeWebSocket.last.onclose?.({ code: 1006, reason: '' })
      expect(chat.status).toBe('reconnecting')
      expect(chat.editHistory?.failed).toBe('The connection was lost before the earlier versions came.')
      chat.showEditHistory(1)
      expect(chat.editHistory?.failed).toBe('Not connected; the earlier versions could not be asked for.')
    })
  })

  it('asks for members again once an answer is old, after a reconnect, and when a question was lost', () => {
    onFakeTimers(() => {
      const chat = started()
      const asked = () => sentOf('members').map((frame) => frame.query)
      const answer = (query: string) =>
        FakeWebSocket.last.receive({ type: 'members', room: 'general', query, members: [] })
      const type = (prefix: string) => {
        chat.completeMembers(prefix)
        vi.advanceTimersByTime(200)
      }
      type('Ca')
      answer('Ca')
      type('Car')
      expect(asked()).toEqual(['Ca'])
      // an answer in full is true only a while: someone may have joined since
      vi.advanceTimersByTime(MEMBER_ANSWER_LIFETIME_MS)
      type('Car')
      expect(asked()).toEqual(['Ca', 'Car'])
      answer('Car')
      // a question refused (it names no ref) is asked again
      type('D')
      FakeWebSocket.last.receive({ type: 'error', code: 'rate_limited', message: 'Slow down' })
      type('D')
      expect(asked()).toEqual(['Ca', 'Car', 'D', 'D'])
      answer('D')
      // one that could not go out is asked again once connected
      FakeWebSocket.last.readyState = 3
      type('E')
      FakeWebSocket.last.readyState = 1
      type('E')
      expect(asked()).toEqual(['Ca', 'Car', 'D', 'D', 'E'])
      answer('E')
      // after a reconnect (welcome), nothing answered before is trusted
      FakeWebSocket.last.receive({
        type: 'welcome',
        user: alice,
        rooms: ['general'],
        heartbeatMs: 30_000,
        server: 's1',
      })
      type('Car')
      expect(asked()).toEqual(['Ca', 'Car', 'D', 'D', 'E', 'Car'])
    })
  })

  it('asks the room’s members by the start of a name once the writer pauses, and offers them to complete', () => {
    vi.useFakeTimers()
    try {
      const chat = started()
      const carol = { id: '3', name: 'Carol', verified: true }
      const asked = () =>
        FakeWebSocket.last.sent.filter((frame) => frame.type === 'members').map((frame) => frame.query)
      chat.completeMembers('C')
      chat.completeMembers('Ca')
      vi.advanceTimersByTime(200)
      expect(asked()).toEqual(['Ca'])
      const entry = { user: carol, role: 'member' as const, joinedAt: new Date().toISOString() }
      FakeWebSocket.last.receive({ type: 'members', room: 'general', query: 'Ca', members: [entry] })
      expect(chat.people).toEqual([carol])
      // answered in full (fewer than the most an answer holds): a longer name needs no question
      chat.completeMembers('Car')
      vi.advanceTimersByTime(200)
      expect(asked()).toEqual(['Ca'])
      // the room's update heard (others' joins are not announced: for those the answer's 30 s lifetime): asked again
      FakeWebSocket.last.receive(generalUpdated())
      chat.completeMembers('Car')
      vi.advanceTimersByTime(200)
      expect(asked()).toEqual(['Ca', 'Car'])
    } finally {
      vi.useRealTimers()
    }
  })

  it('notifies a mention an edit adds, and counts it in a room not shown as a mention, not an unread message', () => {
    // a hidden tab that may notify: what the page shows is recorded
    const notified: string[] = []
    vi.stubGlobal('document', { hidden: true })
    vi.stubGlobal('localStorage', new MemoryStorage())
    vi.stubGlobal(
      'Notification',
      class {
        static permission = 'granted'
        constructor(title: string) {
          notified.push(title)
        }
      },
    )
    const chat = started()
    FakeWebSocket.last.receive(
      generalUpdated({ lastSeq: 1, role: 'member', lastReadSeq: 0, unread: 1, mentions: 0 }),
    )
    chat.open('random')
    const message = {
      room: 'general',
      seq: 1,
      id: '1',
      clientId: 'b1',
      text: 'hi @Alice',
      at: new Date().toISOString(),
      author: bob,
    }
    const edit: Omit<MessageUpdate, 'seq'> = {
      room: 'general',
      change: 'edited',
      by: bob,
      message: { ...message, mentions: [alice.id] },
    }
    const general = () => chat.channels.find((room) => room.room === 'general')!
    // read back in a page: no news, nothing counted
    FakeWebSocket.last.receive({
      type: 'history',
      room: 'general',
      messages: [message],
      done: true,
      hasOlder: false,
      updates: [{ ...edit, seq: 2 }],
    })
    expect([general().unread, general().mentions]).toEqual([1, 0])
    // live, naming the reader as newly mentioned
    expect(notified).toEqual([])
    FakeWebSocket.last.receive({ type: 'message_updated', ...edit, seq: 3, mentionsAdded: [alice.id] })
    expect([general().unread, general().mentions]).toEqual([1, 1])
    expect(notified).toEqual(['Bob mentioned you in #general'])
    // from a room not joined: the server's activity for such an edit
    FakeWebSocket.last.receive({
      type: 'activity',
      room: 'general',
      seq: 4,
      mentioned: true,
      change: 'edited',
    })
    expect([general().unread, general().mentions]).toEqual([1, 2])
    // an @room added to a message that named the reader already: no news to them, counted once
    FakeWebSocket.last.receive({
      type: 'message_updated',
      ...edit,
      seq: 5,
      message: { ...edit.message, mentionsRoom: true },
      mentionsRoomAdded: true,
      mentionedBefore: [alice.id],
    })
    expect([general().unread, general().mentions]).toEqual([1, 2])
    expect(notified).toEqual(['Bob mentioned you in #general'])
  })
})
