import type { ChatMessage, MessageUpdate } from '@chat/contract'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase } from '../db/database.ts'
import { tokenHash } from '../sessions/session-store.ts'
import { TEST_REDIS_URL } from '../test/backends.ts'
import { Cluster, newRoomName, PASSWORD, sleep, waitFor, type Frame } from '../test/cluster.ts'
import { refusedStatus } from '../test/ws-client.ts'

const seqsOf = (messages: ChatMessage[]) => messages.map((message) => message.seq)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/**
 * The room's log as a client received it: messages and events (`seq`, and what each says), history pages'
 * messages and updates merged by `seq`, live frames as they came.
 */
function logOf(frames: Frame[], room: string): { seq: number; entry: ChatMessage | MessageUpdate }[] {
  return frames.flatMap((frame) => {
    if (frame.room !== room) return []
    if (frame.type === 'history') {
      const updates = (frame as { updates?: MessageUpdate[] }).updates ?? []
      return [...frame.messages!, ...updates]
        .map((entry) => ({ seq: entry.seq, entry }))
        .sort((x, y) => x.seq - y.seq)
    }
    if (frame.type === 'message' || frame.type === 'message_updated') {
      const entry = frame as unknown as ChatMessage | MessageUpdate
      return [{ seq: entry.seq, entry }]
    }
    return []
  })
}

/** The messages a client shows once it has applied its log in order: an update replaces its message. */
function applied(log: ReturnType<typeof logOf>): Map<number, ChatMessage> {
  const shown = new Map<number, ChatMessage>()
  for (const { entry } of log) {
    if ('change' in entry) shown.set(entry.message.seq, entry.message)
    else shown.set(entry.seq, entry)
  }
  return shown
}

describe('chat across separate server processes on one database and one Redis prefix', () => {
  // 0 and 1: APP_ROLE=all; 2: APP_ROLE=ws, a pure WebSocket replica
  const cluster = new Cluster()
  beforeAll(() => cluster.start(['all', 'all', 'ws']))
  afterEach(() => cluster.closeSockets())
  afterAll(() => cluster.stop())

  it('runs three processes: two serve the API, the ws one does not, all speak chat', async () => {
    const user = await cluster.register(0)
    const welcomes = await Promise.all([0, 1, 2].map((server) => cluster.connect(server, user)))
    // one process id each: these are separate processes, not one answering three ports
    expect(new Set(welcomes.map((client) => client.welcome!.server)).size).toBe(3)
    expect((await cluster.post(1, '/auth', { email: user.email, password: PASSWORD })).status).toBe(200)
    expect((await cluster.post(2, '/auth', { email: user.email, password: PASSWORD })).status).toBe(404)
  })

  it('(a) delivers a message stored through one process to a member on another, after the sender’s ack', async () => {
    const [alice, bob] = [await cluster.register(), await cluster.register()]
    const a = await cluster.connect(0, alice)
    const b = await cluster.connect(1, bob)
    await a.join('general')
    await b.join('general')
    const clientId = crypto.randomUUID()
    const text = `hello from process one ${clientId}`
    const ack = await a.send('general', text, clientId)
    const atB = await b.socket.nextOfType<Frame>('message', (frame) => frame.clientId === clientId)
    expect(atB).toMatchObject({
      room: 'general',
      seq: ack.seq,
      id: ack.id,
      text,
      author: { name: alice.name },
    })
    const own = await a.socket.nextOfType<Frame>('message', (frame) => frame.clientId === clientId)
    expect(own).toMatchObject({ seq: ack.seq, id: ack.id, text })
    // the ack comes first, then the message as everyone gets it
    const frames = a.frames()
    const ackAt = frames.findIndex((frame) => frame.type === 'ack' && frame.clientId === clientId)
    const messageAt = frames.findIndex((frame) => frame.type === 'message' && frame.clientId === clientId)
    expect(ackAt).toBeGreaterThanOrEqual(0)
    expect(messageAt).toBeGreaterThan(ackAt)
    // each once
    expect(b.messages('general').filter((message) => message.clientId === clientId)).toHaveLength(1)
    expect(a.messages('general').filter((message) => message.clientId === clientId)).toHaveLength(1)
  })

  it('(b) resumes on the other process with exactly the missed messages, then live with no gap', async () => {
    const { bob, room, a, b: b1 } = await cluster.twoInRoom('resume', [0, 1])
    const seen = await a.send(room, 'seen by bob')
    await b1.awaitMessages(room, 1)
    const lastSeen = seqsOf(b1.messages(room)).at(-1)!
    expect(lastSeen).toBe(seen.seq)

    b1.socket.socket.terminate()
    const missed: Frame[] = []
    for (let i = 0; i < 5; i++) missed.push(await a.send(room, `missed ${i}`))

    // back on another process, while alice keeps sending: the join must not lose or repeat any of these
    const b2 = await cluster.connect(2, bob)
    const during = Array.from({ length: 10 }, () => crypto.randomUUID())
    const joining = b2.join(room, lastSeen)
    during.forEach((clientId, i) => a.write({ type: 'send', room, clientId, text: `during ${i}` }))
    const history = await joining
    const duringAcks = await Promise.all(during.map((clientId) => a.ack(clientId)))

    const historyMessages = history.flatMap((frame) => frame.messages!)
    expect(historyMessages.slice(0, 5).map((message) => message.id)).toEqual(missed.map((ack) => ack.id))
    expect(history.at(-1)!.done).toBe(true)
    const last = Math.max(...duringAcks.map((ack) => ack.seq!))
    const all = await b2.awaitMessages(room, last - lastSeen)
    // exactly what came after `since`, once each, in order: no gap between history and live
    expect(seqsOf(all)).toEqual(range(lastSeen + 1, last))
    const after = await a.send(room, 'live after the resume')
    await b2.awaitMessages(room, after.seq! - lastSeen)
    expect(seqsOf(b2.messages(room))).toEqual(range(lastSeen + 1, after.seq!))
    expect(b2.messages(room).at(-1)!.id).toBe(after.id)
  })

  it('gives edits, deletions and reactions their own seq: live once on another process, and replayed exactly once on a resume', async () => {
    const [alice, bob] = [await cluster.register(), await cluster.register()]
    const room = newRoomName('changes')
    const a = await cluster.connect(0, alice)
    await a.createRoom(room)
    await a.join(room)
    const b1 = await cluster.connect(1, bob)
    await b1.join(room)
    const first = await a.send(room, 'first')
    const second = await a.send(room, 'second')
    const change = async (message: Record<string, unknown>) => {
      const before = logOf(a.frames(), room).length
      a.write({ room, ...message })
      await waitFor(
        'the change',
        () => logOf(a.frames(), room).length,
        (length) => length > before,
      )
    }
    await change({ type: 'edit', seq: first.seq, text: 'first, take two' })
    await waitFor(
      'the live edit at bob',
      () => logOf(b1.frames(), room),
      (log) => log.length === 3,
    )
    expect(logOf(b1.frames(), room).map(({ seq }) => seq)).toEqual([1, 2, 3])
    expect(applied(logOf(b1.frames(), room)).get(first.seq!)).toMatchObject({ text: 'first, take two' })

    b1.socket.socket.terminate()
    await change({ type: 'edit', seq: first.seq, text: 'first, take three' })
    await change({ type: 'delete', seq: second.seq })
    await a.send(room, 'third')
    await change({ type: 'react', seq: first.seq, emoji: '👍', on: true })

    // back on another process while alice goes on changing things: nothing lost, nothing twice
    const b2 = await cluster.connect(2, bob)
    const joining = b2.join(room, 3)
    a.write({ type: 'edit', room, seq: first.seq, text: 'first, take four' })
    a.write({ type: 'react', room, seq: first.seq, emoji: '🎉', on: true })
    await joining
    await waitFor(
      'the resumed log',
      () => logOf(b2.frames(), room),
      (log) => log.at(-1)?.seq === 9,
    )
    const resumed = logOf(b2.frames(), room)
    expect(resumed.map(({ seq }) => seq)).toEqual([4, 5, 6, 7, 8, 9])
    const shown = applied(resumed)
    expect(shown.get(first.seq!)).toMatchObject({
      text: 'first, take four',
      editedAt: expect.any(String),
      reactions: [
        { emoji: '👍', users: [{ name: alice.name }] },
        { emoji: '🎉', users: [{ name: alice.name }] },
      ],
    })
    expect(shown.get(second.seq!)).toMatchObject({ text: '', deleted: true })
    // the writer's own process delivered the same log, once each (its last frame may land after bob's)
    await waitFor(
      'the writer’s log',
      () => logOf(a.frames(), room),
      (log) => log.at(-1)?.seq === 9,
    )
    expect(logOf(a.frames(), room).map(({ seq }) => seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('refuses another member’s edit or deletion with forbidden, and a missing message with unknown_message', async () => {
    const [alice, bob] = [await cluster.register(), await cluster.register()]
    const room = newRoomName('refusals')
    const a = await cluster.connect(0, alice)
    await a.createRoom(room)
    await a.join(room)
    const b = await cluster.connect(1, bob)
    await b.join(room)
    const mine = await a.send(room, 'alice’s own')
    for (const [message, code] of [
      [{ type: 'edit', room, seq: mine.seq, text: 'bob was here' }, 'forbidden'],
      [{ type: 'delete', room, seq: mine.seq }, 'forbidden'],
      [{ type: 'edit_history', room, seq: mine.seq }, 'forbidden'],
      [{ type: 'delete', room, seq: 9_999 }, 'unknown_message'],
    ] as const) {
      const before = b.frames().filter((frame) => frame.type === 'error').length
      b.write(message)
      await waitFor(
        'the refusal',
        () => b.frames().filter((frame) => frame.type === 'error'),
        (errors) => errors.length > before,
      )
      expect(
        b
          .frames()
          .filter((frame) => frame.type === 'error')
          .at(-1),
      ).toMatchObject({ code })
    }
    // as the room's owner, alice may delete bob's message and read edit histories
    const db = createDatabase({ kind: 'postgres', url: cluster.env.DATABASE_URL! })
    try {
      await sql`insert into room_members (room_id, user_id, role)
        select r.id, u.id, 'owner' from rooms r, users u where r.name = ${room} and u.email = ${alice.email}
        on conflict (room_id, user_id) do update set role = 'owner'`.execute(db)
    } finally {
      await db.destroy()
    }
    const his = await b.send(room, 'bob’s')
    a.write({ type: 'delete', room, seq: his.seq })
    await waitFor(
      'the deletion at bob',
      () => logOf(b.frames(), room),
      (log) => log.some(({ entry }) => 'change' in entry && entry.change === 'deleted'),
    )
    a.write({ type: 'edit_history', room, seq: mine.seq })
    expect(await a.socket.nextOfType<Frame>('edit_history')).toMatchObject({ room, seq: mine.seq, edits: [] })
  })

  it('(b) resumes past 230 missed messages in one page, complete and in order', async () => {
    const { bob, room, a, b: b1 } = await cluster.twoInRoom('pages', [1, 2])
    const seen = await a.send(room, 'before the outage')
    await b1.awaitMessages(room, 1)
    b1.socket.socket.terminate()

    const clientIds = Array.from({ length: 230 }, () => crypto.randomUUID())
    clientIds.forEach((clientId, i) => a.write({ type: 'send', room, clientId, text: `missed ${i}` }))
    const acks = await Promise.all(clientIds.map((clientId) => a.ack(clientId, 20_000)))
    expect(seqsOf(acks as unknown as ChatMessage[])).toEqual(range(seen.seq! + 1, seen.seq! + 230))

    const b2 = await cluster.connect(0, bob)
    const history = await b2.join(room, seen.seq)
    expect(history.map((frame) => [frame.messages!.length, frame.done])).toEqual([[230, true]])
    const resumed = history.flatMap((frame) => frame.messages!)
    expect(resumed.map((message) => message.clientId)).toEqual(clientIds)
    expect(seqsOf(resumed)).toEqual(range(seen.seq! + 1, seen.seq! + 230))
    const live = await a.send(room, 'live again')
    await b2.awaitMessages(room, 231)
    expect(seqsOf(b2.messages(room))).toEqual(range(seen.seq! + 1, live.seq!))
  })

  it('(c) stores a re-sent client id once, whichever process it comes through, repeating the ack', async () => {
    const [alice, bob] = [await cluster.register(), await cluster.register()]
    const room = newRoomName('resend')
    const a1 = await cluster.connect(0, alice)
    await a1.createRoom(room)
    const a2 = await cluster.connect(1, await cluster.login(1, alice))
    const b = await cluster.connect(2, bob)
    for (const client of [a1, a2, b]) await client.join(room)

    const clientId = crypto.randomUUID()
    const first = await a1.send(room, 'only once', clientId)
    const again = await a1.send(room, 'only once', clientId)
    const elsewhere = await a2.send(room, 'only once, from the other process', clientId)
    for (const ack of [again, elsewhere]) {
      expect(ack).toMatchObject({ id: first.id, seq: first.seq, at: (first as { at?: string }).at })
    }
    const marker = await a1.send(room, 'marker')
    expect(marker.seq).toBe(first.seq! + 1)
    await b.awaitMessages(room, 2)
    await a2.awaitMessages(room, 2)
    for (const client of [a1, a2, b]) {
      const stored = client.messages(room)
      expect(stored.filter((message) => message.clientId === clientId)).toHaveLength(1)
      expect(stored.find((message) => message.clientId === clientId)!.text).toBe('only once')
    }
    expect(seqsOf(b.messages(room))).toEqual([first.seq, marker.seq])
  })

  it('(c) stores once a client id raced from two processes at the same moment, and delivery goes on', async () => {
    const [alice, bob] = [await cluster.register(), await cluster.register()]
    const room = newRoomName('race')
    const a1 = await cluster.connect(0, alice)
    await a1.createRoom(room)
    const a2 = await cluster.connect(1, await cluster.login(1, alice))
    const b = await cluster.connect(2, bob)
    for (const client of [a1, a2, b]) await client.join(room)

    const raced = Array.from({ length: 10 }, () => crypto.randomUUID())
    for (const clientId of raced) {
      a1.write({ type: 'send', room, clientId, text: clientId })
      a2.write({ type: 'send', room, clientId, text: clientId })
      const [one, two] = await Promise.all([a1.ack(clientId), a2.ack(clientId)])
      expect(two).toMatchObject({ id: one!.id, seq: one!.seq })
    }
    const marker = await a1.send(room, 'after the races')
    await waitFor(
      'the marker at bob',
      () => b.messages(room),
      (messages) => messages.some((message) => message.id === marker.id),
    )
    // one message per client id; a seq may be skipped where a race took a number, never repeated
    const atB = b.messages(room)
    expect(atB.map((message) => message.clientId)).toEqual([...raced, marker.clientId])
    const seqs = seqsOf(atB)
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y))
    expect(new Set(seqs).size).toBe(seqs.length)
    // a fresh join reads the same from the database
    const check = await cluster.connect(0, bob)
    const history = (await check.join(room, 0)).flatMap((frame) => frame.messages!)
    expect(history.map((message) => message.id)).toEqual(atB.map((message) => message.id))
  })

  it('(d) shares presence across processes, and typing, which is never stored', async () => {
    const { alice, bob, room, a, b } = await cluster.twoInRoom('presence', [0, 2])
    const both = [alice.name, bob.name].sort()
    const presence = await a.socket.nextOfType<Frame>(
      'presence',
      (frame) => frame.room === room && frame.online!.some((user) => user.name === bob.name),
    )
    expect(presence.online!.map((user) => user.name).sort()).toEqual(both)

    b.write({ type: 'typing', room, typing: true })
    const typing = await a.socket.nextOfType<Frame>('typing', (frame) => frame.room === room)
    expect(typing).toMatchObject({ user: { name: bob.name }, typing: true })
    expect(typing.seq).toBeUndefined()
    b.write({ type: 'typing', room, typing: false })
    expect(
      await a.socket.nextOfType<Frame>('typing', (frame) => frame.room === room && frame.typing === false),
    ).toMatchObject({ user: { name: bob.name } })
    const marker = await a.send(room, 'a stored message')
    await b.awaitMessages(room, 1)
    // the only stored thing is the message: typing was neither acked, nor delivered, nor kept as one
    for (const client of [a, b]) expect(seqsOf(client.messages(room))).toEqual([marker.seq])
    expect(b.frames().filter((frame) => frame.type === 'ack')).toEqual([])
    const later = await cluster.connect(1, alice)
    expect((await later.join(room)).flatMap((frame) => frame.messages!)).toHaveLength(1)

    const left = Date.now()
    b.socket.socket.close()
    await waitFor(
      'bob gone from alice’s presence',
      () => a.online(room),
      (online) => !online?.includes(bob.name),
      3_000,
    )
    expect(Date.now() - left).toBeLessThan(3_000)
    expect(a.online(room)).toEqual([alice.name])
  })

  it('(d) keeps a user online until their last connection to the room, on any process, is gone', async () => {
    const [alice, bob] = [await cluster.register(), await cluster.register()]
    const room = newRoomName('two-tabs')
    const a = await cluster.connect(0, alice)
    await a.createRoom(room)
    await a.join(room)
    const b1 = await cluster.connect(1, bob)
    const b2 = await cluster.connect(2, bob)
    await b1.join(room)
    await b2.join(room)
    await waitFor(
      'bob online at alice',
      () => a.online(room),
      (online) => !!online?.includes(bob.name),
    )
    b1.socket.socket.close()
    await b1.socket.closed
    // bob is still in the room through process 2: no presence may drop him
    await sleep(500)
    expect(a.online(room)).toContain(bob.name)
    b2.socket.socket.close()
    await waitFor(
      'bob gone at alice',
      () => a.online(room),
      (online) => !online?.includes(bob.name),
      3_000,
    )
  })

  it('(e) announces a room created through one process to clients of the others, who can chat in it', async () => {
    const [alice, bob, carol] = [await cluster.register(), await cluster.register(), await cluster.register()]
    const a = await cluster.connect(0, alice)
    const b = await cluster.connect(1, bob)
    const c = await cluster.connect(2, carol)
    const room = newRoomName('new')
    expect(b.welcome!.rooms).not.toContain(room)
    a.write({ type: 'create_room', room })
    for (const client of [a, b, c])
      await client.socket.nextOfType<Frame>('room_created', (f) => f.room === room)
    b.write({ type: 'rooms' })
    expect((await b.socket.nextOfType<{ rooms: string[] }>('rooms')).rooms).toContain(room)
    // the same name again, through another process: refused
    c.write({ type: 'create_room', room })
    expect(await c.socket.nextOfType<Frame>('error')).toMatchObject({ code: 'room_exists' })

    await c.join(room)
    await b.join(room)
    const ack = await c.send(room, 'first words in the new room')
    const atB = await b.socket.nextOfType<Frame>('message', (frame) => frame.room === room)
    expect(atB).toMatchObject({ id: ack.id, seq: 1, text: 'first words in the new room' })
    const reply = await b.send(room, 'and a reply')
    expect(await c.socket.nextOfType<Frame>('message', (frame) => frame.id === reply.id)).toMatchObject({
      seq: 2,
    })
  })

  /**
   * A private room made through process 0 by a new owner, and a new member invited, connected to
   * processes 1 and 2: both connections told of the room.
   */
  async function privateRoomAcrossProcesses() {
    const [owner, member] = [await cluster.register(), await cluster.register()]
    const o = await cluster.connect(0, owner)
    const room = newRoomName('private')
    o.write({ type: 'create_room', room, kind: 'private' })
    await o.socket.nextOfType<Frame>('room_created', (frame) => frame.room === room)
    const memberClients = [await cluster.connect(1, member), await cluster.connect(2, member)] as const
    o.write({ type: 'invite', room, user: memberClients[0].welcome!.user!.id })
    for (const client of memberClients)
      await client.socket.nextOfType<Frame>('room_created', (frame) => frame.room === room)
    return { o, room, member, memberClients }
  }

  it('(h) a member removed through one process stops hearing the private room on the others within 1 s', async () => {
    const { o, room, memberClients } = await privateRoomAcrossProcesses()
    const [inRoom, listing] = memberClients
    const memberId = inRoom.welcome!.user!.id
    await o.join(room)
    await inRoom.join(room)
    await o.send(room, 'before the removal')
    await inRoom.socket.nextOfType<Frame>('message', (frame) => frame.text === 'before the removal')

    const removedAt = Date.now()
    o.write({ type: 'remove_member', room, user: memberId })
    await Promise.all(
      [inRoom, listing].map((client) =>
        client.socket.nextOfType<Frame>('room_removed', (frame) => frame.room === room, 1_000),
      ),
    )
    expect(Date.now() - removedAt).toBeLessThan(1_000)
    await o.send(room, 'after the removal')
    o.write({ type: 'typing', room, typing: true })
    await sleep(300)
    for (const client of [inRoom, listing]) {
      const heard = client.frames().filter((frame) => frame.room === room && frame.type !== 'room_removed')
      expect(heard.some((frame) => frame.text === 'after the removal' || frame.type === 'typing')).toBe(false)
      expect(heard.some((frame) => frame.type === 'activity' && frame.seq === 2)).toBe(false)
    }
    inRoom.write({ type: 'join', room })
    expect(await inRoom.socket.nextOfType<Frame>('error')).toMatchObject({ code: 'unknown_room' })
  })

  it('(h) a read marker moved through one process reaches the user’s connections on the others, and the counts', async () => {
    const { o: w, room, member: reader, memberClients } = await privateRoomAcrossProcesses()
    const [phone, laptop] = memberClients
    await w.join(room)
    for (const text of ['one', 'two']) await w.send(room, text)
    // both of the reader's connections hear of the new messages without having the room open
    for (const client of [phone, laptop])
      await client.socket.nextOfType<Frame>('activity', (frame) => frame.room === room && frame.seq === 2)
    phone.write({ type: 'read', room, seq: 2 })
    await laptop.socket.nextOfType<Frame>('read', (frame) => frame.room === room && frame.seq === 2, 1_000)
    await w.send(room, 'three')
    const later = await cluster.connect(0, reader)
    const summary = (
      later.welcome as unknown as { roomList: { room: string; unread: number }[] }
    ).roomList.find((entry) => entry.room === room)
    expect(summary).toMatchObject({ unread: 1 })
  })

  it('(f) logout through one process closes that session’s sockets on the others within 1 s, with 4001', async () => {
    const bob = await cluster.register()
    const otherSession = await cluster.login(0, bob)
    const held = [await cluster.connect(1, bob), await cluster.connect(2, bob)]
    const untouched = await cluster.connect(2, otherSession)
    const started = performance.now()
    expect((await cluster.post(0, '/logout', {}, bob.token)).status).toBe(200)
    const closes = await Promise.all(
      held.map((client) => client.socket.closed.then((closed) => ({ ...closed, at: performance.now() }))),
    )
    for (const closed of closes) {
      expect(closed.code).toBe(4001)
      expect(closed.at - started).toBeLessThan(1_000)
    }
    expect(await refusedStatus(cluster.wsUrl(1), ['chat.v1', `bearer.${bob.token}`])).toBe(401)
    // only that session: the user's other session keeps its socket
    await sleep(300)
    expect(untouched.socket.socket.readyState).toBe(untouched.socket.socket.OPEN)
  })

  it('(f) a session ended from the sessions list through one process closes its sockets on the others within 1 s', async () => {
    const dave = await cluster.register()
    const phone = await cluster.login(0, dave)
    const held = [await cluster.connect(1, phone), await cluster.connect(2, phone)]
    const kept = await cluster.connect(2, dave)
    const listed = await fetch(`${cluster.urls[0]}/v1.0/user/sessions`, {
      headers: { authorization: `Bearer ${dave.token}` },
    })
    const sessions = ((await listed.json()) as { data: { id: string; current: boolean }[] }).data
    const phoneId = sessions.find((session) => !session.current)!.id
    const started = performance.now()
    const ended = await fetch(`${cluster.urls[0]}/v1.0/user/sessions/${phoneId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${dave.token}` },
    })
    expect(ended.status).toBe(200)
    for (const client of held) {
      const closed = await client.socket.closed
      expect(closed.code).toBe(4001)
      expect(performance.now() - started).toBeLessThan(1_000)
    }
    await sleep(300)
    expect(kept.socket.socket.readyState).toBe(kept.socket.socket.OPEN)
  })

  it('(f) "log out everywhere" closes every socket of the user on every process within 1 s', async () => {
    const carol = await cluster.register()
    const second = await cluster.login(1, carol)
    const dave = await cluster.register()
    const held = [
      await cluster.connect(0, carol),
      await cluster.connect(1, carol),
      await cluster.connect(2, carol),
      await cluster.connect(0, second),
      await cluster.connect(2, second),
    ]
    const bystander = await cluster.connect(2, dave)
    const started = performance.now()
    const response = await cluster.post(1, '/logout-all', {}, second.token)
    expect(response.status).toBe(200)
    expect(((await response.json()) as { data: { sessions_ended: number } }).data.sessions_ended).toBe(2)
    const closes = await Promise.all(
      held.map((client) => client.socket.closed.then((closed) => ({ ...closed, at: performance.now() }))),
    )
    for (const closed of closes) {
      expect(closed.code).toBe(4001)
      expect(closed.at - started).toBeLessThan(1_000)
    }
    await sleep(300)
    expect(bystander.socket.socket.readyState).toBe(bystander.socket.socket.OPEN)
  })

  it('gives every member every message of concurrent senders on all processes, in one order, no gaps', async () => {
    const users = [await cluster.register(), await cluster.register(), await cluster.register()]
    const room = newRoomName('busy')
    const clients = await Promise.all(users.map((user, server) => cluster.connect(server, user)))
    await clients[0]!.createRoom(room)
    for (const client of clients) await client.join(room)

    const sent = clients.map((_, who) => Array.from({ length: 30 }, (_, i) => `${who}:${i}`))
    const acks = await Promise.all(
      clients.map(async (client, who) => {
        sent[who]!.forEach((clientId) => client.write({ type: 'send', room, clientId, text: clientId }))
        return Promise.all(sent[who]!.map((clientId) => client.ack(clientId, 20_000)))
      }),
    )
    expect(
      acks
        .flat()
        .map((ack) => ack.seq)
        .sort((x, y) => x! - y!),
    ).toEqual(range(1, 90))
    const views = await Promise.all(clients.map((client) => client.awaitMessages(room, 90)))
    for (const view of views) {
      expect(view).toHaveLength(90)
      expect(seqsOf(view)).toEqual(range(1, 90))
      // the same order everywhere, and each sender's messages in the order it sent them
      expect(view.map((message) => message.id)).toEqual(views[0]!.map((message) => message.id))
      for (const [who, clientIds] of sent.entries()) {
        expect(
          view.filter((message) => message.author.name === users[who]!.name).map((m) => m.clientId),
        ).toEqual(clientIds)
      }
    }
    // and the database agrees
    const check = await cluster.connect(1, users[0]!)
    const stored = (await check.join(room, 0)).flatMap((frame) => frame.messages!)
    expect(stored.map((message) => message.id)).toEqual(views[0]!.map((message) => message.id))
  })

  it('stores many concurrent senders on all processes in batches (group commit): every message once, one order, each sender’s order kept', async () => {
    const users = [await cluster.register(0), await cluster.register(1), await cluster.register(0)]
    const room = newRoomName('batched')
    const owner = await cluster.connect(0, users[0]!)
    await owner.createRoom(room)
    // eight connections per user, each user on its own process, all in the room
    const senders = await Promise.all(
      users.flatMap((user, server) => Array.from({ length: 8 }, () => cluster.connect(server, user))),
    )
    for (const sender of senders) await sender.join(room)
    const perSender = 25
    const total = senders.length * perSender
    const sent = senders.map((_, who) => Array.from({ length: perSender }, (_, i) => `${who}:${i}`))
    const acks = await Promise.all(
      senders.map((sender, who) => {
        sent[who]!.forEach((clientId) => sender.write({ type: 'send', room, clientId, text: clientId }))
        return Promise.all(sent[who]!.map((clientId) => sender.ack(clientId, 30_000)))
      }),
    )
    // each sender acked with its own seq, and the seqs are 1..total with none twice
    for (const [who, senderAcks] of acks.entries())
      expect(senderAcks.map((ack) => ack.clientId)).toEqual(sent[who])
    expect(
      acks
        .flat()
        .map((ack) => ack.seq!)
        .sort((x, y) => x - y),
    ).toEqual(range(1, total))
    const views = await Promise.all(senders.map((sender) => sender.awaitMessages(room, total, 30_000)))
    for (const view of views) {
      expect(seqsOf(view)).toEqual(range(1, total))
      expect(view.map((message) => message.id)).toEqual(views[0]!.map((message) => message.id))
      for (const clientIds of sent) {
        const mine = new Set(clientIds)
        expect(view.filter((message) => mine.has(message.clientId)).map((m) => m.clientId)).toEqual(clientIds)
      }
    }
    // Rows one transaction inserted share its id (xmin): far fewer transactions than messages means the
    // sends were stored in batches, not one statement each.
    const db = createDatabase({ kind: 'postgres', url: cluster.env.DATABASE_URL! })
    try {
      const { rows } = await sql<{ transactions: number }>`
        select count(distinct m.xmin::text)::int as transactions
        from messages m join rooms r on r.id = m.room_id where r.name = ${room}
      `.execute(db)
      expect(rows[0]!.transactions).toBeLessThan(total / 2)
    } finally {
      await db.destroy()
    }
  })

  // Last: it stops process 1.
  it('(g) on SIGTERM closes its sockets with 1001, exits 0, and keeps every message it acknowledged', async () => {
    const [alice, bob] = [await cluster.register(), await cluster.register()]
    const room = newRoomName('shutdown')
    const a = await cluster.connect(0, alice)
    await a.createRoom(room)
    await a.join(room)
    const b = await cluster.connect(1, bob)
    const bObserver = await cluster.connect(1, alice)
    await b.join(room)
    await waitFor(
      'bob online at alice',
      () => a.online(room),
      (online) => !!online?.includes(bob.name),
    )

    // bob sends 40 without waiting; process 1 is told to stop once the first is acknowledged
    const clientIds = Array.from({ length: 40 }, (_, i) => `shutdown-${i}`)
    const acked = b.sendAll(room, clientIds)
    await b.ack(clientIds[0]!)
    const exited = cluster.servers[1]!.stop()
    const [closedB, closedObserver] = await Promise.all([b.socket.closed, bObserver.socket.closed])
    expect(closedB.code).toBe(1001)
    expect(closedObserver.code).toBe(1001)
    expect(await exited).toBe(0)
    expect(acked.size).toBeGreaterThan(0)

    // everything acknowledged is in the history, once, in ack order
    const check = await cluster.connect(0, alice)
    const history = (await check.join(room, 0)).flatMap((frame) => frame.messages!)
    const byClientId = new Map(history.map((message) => [message.clientId, message]))
    for (const [clientId, ack] of acked)
      expect(byClientId.get(clientId)).toMatchObject({ id: ack.id, seq: ack.seq })
    expect(new Set(history.map((message) => message.clientId)).size).toBe(history.length)

    // bob, gone with process 1, leaves alice's presence
    await waitFor(
      'bob gone from presence after the shutdown',
      () => a.online(room),
      (online) => !online?.includes(bob.name),
      3_000,
    )

    // bob's client re-sends what was not acknowledged, through process 0: all 40 end up stored exactly once
    const back = await cluster.connect(0, bob)
    await back.join(room)
    const pending = clientIds.filter((clientId) => !acked.has(clientId))
    pending.forEach((clientId) => back.write({ type: 'send', room, clientId, text: clientId }))
    await Promise.all(pending.map((clientId) => back.ack(clientId)))
    const final = await cluster.connect(2, alice)
    const all = (await final.join(room, 0)).flatMap((frame) => frame.messages!)
    // process 1 stored a prefix, in order; process 0 the rest, each once: the order bob sent them in
    expect(all.map((message) => message.clientId)).toEqual(clientIds)
  })
})

describe('sessions reaching their absolute end, on processes with SESSION_ABSOLUTE_TIMEOUT=3', () => {
  const cluster = new Cluster()
  beforeAll(() =>
    cluster.start(['all', 'ws'], { SESSION_ABSOLUTE_TIMEOUT: '3', SESSION_IDLE_TIMEOUT: '1.5' }),
  )
  afterEach(() => cluster.closeSockets())
  afterAll(() => cluster.stop())

  it('(f) keeps idle sockets’ sessions alive past the idle timeout, then closes them within 1 s of the end', async () => {
    const user = await cluster.register(0)
    const held = [await cluster.connect(0, user), await cluster.connect(1, user)]
    const redis = new Redis(TEST_REDIS_URL)
    let expiresAt: number
    try {
      const stored = await redis.get(`${cluster.env.REDIS_KEY_PREFIX}session:${tokenHash(user.token)}`)
      expiresAt = (JSON.parse(stored!) as { expiresAt: number }).expiresAt
    } finally {
      redis.disconnect()
    }
    const closes = held.map((client) =>
      client.socket.closed.then((closed) => ({ ...closed, at: Date.now() })),
    )
    // past the 1.5 s idle timeout with nothing said: the open sockets keep the session in use
    await sleep(Math.max(0, expiresAt - 600 - Date.now()))
    for (const client of held) expect(client.socket.socket.readyState).toBe(client.socket.socket.OPEN)
    // and the session itself is alive, its idle timer kept fresh by the sockets' checks
    const me = await fetch(`${cluster.urls[0]}/v1.0/user/me`, {
      headers: { authorization: `Bearer ${user.token}` },
      signal: AbortSignal.timeout(5_000),
    })
    expect(me.status).toBe(200)
    for (const closed of await Promise.all(closes)) {
      expect(closed.code).toBe(4001)
      expect(closed.at).toBeGreaterThanOrEqual(expiresAt - 50)
      expect(closed.at - expiresAt).toBeLessThan(1_000)
    }
  })
})
