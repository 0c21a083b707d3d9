import type { RoomSummary } from '@chat/contract'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { backends } from '../test/backends.ts'
import { newEmail, postJson, sleep, startTestApp, type TestApp } from '../test/test-app.ts'
import { openSocket, type TestSocket } from '../test/ws-client.ts'

interface Frame {
  type: string
  room?: string
  code?: string
  message?: string
  seq?: number
  text?: string
  rooms?: string[]
  roomList?: RoomSummary[]
  summary?: RoomSummary
  members?: { user: { id: string }; role: string }[]
  users?: { id: string; name: string }[]
  online?: { id: string }[]
  user?: { id: string }
  mentioned?: boolean
  query?: string
}

/** One chat.v1 connection of a test user. */
interface Speaker {
  id: string
  name: string
  token: string
  socket: TestSocket
  welcome: Frame
  say(message: Record<string, unknown>): void
  next(type: string, where?: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>
  /** every frame received so far */
  frames(): Frame[]
}

const unique = () => crypto.randomUUID().slice(0, 8)

describe.each(backends)('rooms with members on $name', (backend) => {
  let t: TestApp
  let url: string
  const sockets: TestSocket[] = []

  beforeAll(async () => {
    t = await startTestApp(backend, { WS_MESSAGES_PER_SECOND: '200', LOG_LEVEL: 'warn' })
    const address = await t.app.listen({ host: '127.0.0.1', port: 0 })
    url = `${address.replace('http', 'ws')}/ws`
  })
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.socket.terminate()
  })
  afterAll(() => t?.close())

  async function connect(token: string): Promise<Speaker> {
    const socket = await openSocket(url, ['chat.v1', `bearer.${token}`])
    sockets.push(socket)
    const welcome = await socket.nextOfType<Frame & { user: { id: string; name: string } }>('welcome')
    return {
      id: welcome.user.id,
      name: welcome.user.name,
      token,
      socket,
      welcome,
      say: (message) => socket.socket.send(JSON.stringify(message)),
      next: (type, where = () => true, timeoutMs = 5_000) => socket.nextOfType<Frame>(type, where, timeoutMs),
      frames: () => socket.received.map((frame) => JSON.parse(frame) as Frame),
    }
  }

  async function newUser(): Promise<Speaker> {
    const name = `Person ${unique()}`
    const response = await postJson(t.app, '/api/v1.0/user/register', {
      email: newEmail(),
      password: 'a-good-password',
      display_name: name,
    })
    return connect(response.json().data.access_token as string)
  }

  async function admin(): Promise<Speaker> {
    const response = await postJson(t.app, '/api/v1.0/user/auth', t.config.admin)
    return connect(response.json().data.access_token as string)
  }

  const refusal = (speaker: Speaker, code: string) => speaker.next('error', (frame) => frame.code === code)

  async function privateRoom(owner: Speaker): Promise<string> {
    const room = `private-${unique()}`
    owner.say({ type: 'create_room', room, kind: 'private', title: 'Secret plans' })
    await owner.next('room_created', (frame) => frame.room === room)
    return room
  }

  async function join(speaker: Speaker, room: string): Promise<Frame> {
    speaker.say({ type: 'join', room })
    return speaker.next('joined', (frame) => frame.room === room)
  }

  async function send(speaker: Speaker, room: string, text: string): Promise<Frame> {
    const clientId = crypto.randomUUID()
    speaker.say({ type: 'send', room, clientId, text })
    return speaker.next('ack', (frame) => (frame as { clientId?: string }).clientId === clientId)
  }

  /** Everything this connection was sent about the room, by frame type. */
  const heardOf = (speaker: Speaker, room: string) =>
    speaker
      .frames()
      .filter((frame) => frame.room === room || frame.summary?.room === room)
      .map((frame) => frame.type)

  /** A member adds a role for someone: invites them, then sets the role. */
  async function withRole(owner: Speaker, room: string, user: Speaker, role: string): Promise<void> {
    owner.say({ type: 'invite', room, user: user.id })
    await user.next('room_created', (frame) => frame.room === room)
    if (role === 'member') return
    owner.say({ type: 'set_role', room, user: user.id, role })
    await user.next('room_updated', (frame) => frame.summary?.room === room && frame.summary.role === role)
  }

  it('lists public rooms to everyone, and a private room to nobody but its members', async () => {
    const [owner, outsider] = [await newUser(), await newUser()]
    const room = await privateRoom(owner)
    const publicRoom = `public-${unique()}`
    owner.say({ type: 'create_room', room: publicRoom, title: 'Open to all' })
    await outsider.next('room_created', (frame) => frame.room === publicRoom)

    owner.say({ type: 'rooms' })
    const ownList = await owner.next('rooms')
    expect(ownList.roomList!.find((summary) => summary.room === room)).toMatchObject({
      kind: 'private',
      title: 'Secret plans',
      role: 'owner',
      unread: 0,
    })
    outsider.say({ type: 'rooms' })
    const list = await outsider.next('rooms')
    expect(list.rooms).toContain(publicRoom)
    expect(list.rooms).not.toContain(room)
    expect(list.roomList!.find((summary) => summary.room === publicRoom)).toMatchObject({
      kind: 'public',
      title: 'Open to all',
    })
    expect(list.roomList!.find((summary) => summary.room === publicRoom)).not.toHaveProperty('role')
    expect(heardOf(outsider, room)).toEqual([])
  })

  it('keeps a non-member out of a private room by every message: join, history, send, typing, members, read, invite', async () => {
    const [owner, outsider] = [await newUser(), await newUser()]
    const room = await privateRoom(owner)
    await join(owner, room)
    await send(owner, room, 'only for members')

    outsider.say({ type: 'join', room })
    await refusal(outsider, 'unknown_room')
    // refused as a room that does not exist: the answer tells nothing a wrong name would not
    outsider.say({ type: 'join', room: `missing-${unique()}` })
    const missing = await refusal(outsider, 'unknown_room')
    const answers = outsider.frames().filter((frame) => frame.code === 'unknown_room')
    expect(answers.map((frame) => frame.message)).toEqual([
      `There is no room named ${room} you can open`,
      missing.message,
    ])
    expect(missing.message).toMatch(/^There is no room named missing-\S+ you can open$/)
    for (const message of [
      { type: 'history', room },
      { type: 'send', room, clientId: crypto.randomUUID(), text: 'let me in' },
      { type: 'typing', room, typing: true },
    ]) {
      outsider.say(message)
      await refusal(outsider, 'not_joined')
    }
    for (const message of [
      { type: 'members', room },
      { type: 'read', room, seq: 1 },
      { type: 'invite', room, user: outsider.id },
      { type: 'update_room', room, topic: 'mine now' },
      { type: 'leave_room', room },
    ]) {
      outsider.say(message)
      await refusal(outsider, 'unknown_room')
    }
    // the member goes on writing and typing: the outsider hears none of it, nor the presence
    owner.say({ type: 'typing', room, typing: true })
    await send(owner, room, 'still only for members')
    await sleep(100)
    expect(heardOf(outsider, room)).toEqual([])
    expect(
      outsider
        .frames()
        .some(
          (frame) =>
            frame.type === 'message' ||
            frame.type === 'typing' ||
            frame.type === 'presence' ||
            frame.type === 'activity',
        ),
    ).toBe(false)
  })

  it('an invitation makes a member, who is told, may join, read the history and write; others hear them', async () => {
    const [owner, guest] = [await newUser(), await newUser()]
    const room = await privateRoom(owner)
    await join(owner, room)
    await send(owner, room, 'before you came')
    owner.say({ type: 'invite', room, user: guest.id })
    const members = await owner.next('members', (frame) => frame.room === room)
    expect(members.members!.map((member) => [member.user.id, member.role])).toEqual([
      [owner.id, 'owner'],
      [guest.id, 'member'],
    ])
    const added = await guest.next('room_created', (frame) => frame.room === room)
    // a new member has read what was there before them
    expect(added.summary).toMatchObject({ kind: 'private', role: 'member', unread: 0, lastSeq: 1 })
    guest.say({ type: 'join', room })
    const history = await guest.next('history', (frame) => frame.room === room)
    expect(
      (history as unknown as { messages: { text: string }[] }).messages.map((message) => message.text),
    ).toEqual(['before you came'])
    const joined = await guest.next('joined', (frame) => frame.room === room)
    expect(joined.online!.map((user) => user.id).sort()).toEqual([owner.id, guest.id].sort())
    await send(guest, room, 'thanks for the invitation')
    await owner.next('message', (frame) => frame.text === 'thanks for the invitation')
  })

  it('a removed member stops hearing the room at once, it leaves their list, and they cannot come back', async () => {
    const [owner, member] = [await newUser(), await newUser()]
    const room = await privateRoom(owner)
    await withRole(owner, room, member, 'member')
    const second = await connect(member.token)
    expect(second.welcome.rooms).toContain(room)
    await join(owner, room)
    await join(member, room)
    owner.say({ type: 'remove_member', room, user: member.id })
    // both of the member's connections, the one in the room and the one that only lists it
    await member.next('room_removed', (frame) => frame.room === room, 1_000)
    await second.next('room_removed', (frame) => frame.room === room, 1_000)
    await send(owner, room, 'after the removal')
    owner.say({ type: 'typing', room, typing: true })
    await sleep(100)
    for (const speaker of [member, second]) {
      expect(speaker.frames().some((frame) => frame.text === 'after the removal')).toBe(false)
      expect(speaker.frames().some((frame) => frame.type === 'typing' && frame.room === room)).toBe(false)
    }
    member.say({ type: 'send', room, clientId: crypto.randomUUID(), text: 'still here?' })
    await refusal(member, 'not_joined')
    member.say({ type: 'join', room })
    await refusal(member, 'unknown_room')
    member.say({ type: 'rooms' })
    expect((await member.next('rooms')).rooms).not.toContain(room)
  })

  it('opens one direct room per pair, titled with the other person, closed to everyone else', async () => {
    const [alice, bob, carol] = [await newUser(), await newUser(), await newUser()]
    alice.say({ type: 'direct', user: bob.id })
    const opened = await alice.next('direct_room')
    const room = opened.room!
    expect(room).toMatch(/^dm-/)
    const atAlice = await alice.next('room_created', (frame) => frame.room === room)
    const atBob = await bob.next('room_created', (frame) => frame.room === room)
    expect(atAlice.summary).toMatchObject({ kind: 'direct', title: bob.name, peer: { id: bob.id } })
    expect(atBob.summary).toMatchObject({ kind: 'direct', title: alice.name, peer: { id: alice.id } })
    // the same room from the other side, and no second one
    bob.say({ type: 'direct', user: alice.id })
    expect((await bob.next('direct_room')).room).toBe(room)
    await join(alice, room)
    await join(bob, room)
    await send(alice, room, 'just between us')
    await bob.next('message', (frame) => frame.text === 'just between us')

    carol.say({ type: 'join', room })
    await refusal(carol, 'unknown_room')
    carol.say({ type: 'rooms' })
    expect((await carol.next('rooms')).rooms).not.toContain(room)
    expect(carol.frames().some((frame) => frame.text === 'just between us')).toBe(false)
    // nobody invites into, renames or leaves a direct room; nor writes to themselves
    for (const message of [
      { type: 'invite', room, user: carol.id },
      { type: 'update_room', room, title: 'ours' },
      { type: 'leave_room', room },
    ]) {
      alice.say(message)
      await refusal(alice, 'forbidden')
    }
    alice.say({ type: 'direct', user: alice.id })
    await refusal(alice, 'invalid_message')
    alice.say({ type: 'direct', user: '999999999' })
    await refusal(alice, 'unknown_user')
  })

  describe('role rules, one by one', () => {
    let owner: Speaker, moderator: Speaker, member: Speaker, other: Speaker, room: string
    beforeAll(async () => {
      ;[owner, moderator, member, other] = [
        await newUser(),
        await newUser(),
        await newUser(),
        await newUser(),
      ]
      room = await privateRoom(owner)
      await withRole(owner, room, moderator, 'moderator')
      await withRole(owner, room, member, 'member')
    })
    // each test's own connections, as the file's afterEach closes them
    beforeEach(async () => {
      const again = await Promise.all(
        [owner, moderator, member, other].map((speaker) => connect(speaker.token)),
      )
      ;[owner, moderator, member, other] = again as [Speaker, Speaker, Speaker, Speaker]
    })

    it('a member may not invite, remove, change roles, rename, set the topic or archive', async () => {
      for (const message of [
        { type: 'invite', room, user: other.id },
        { type: 'remove_member', room, user: moderator.id },
        { type: 'set_role', room, user: member.id, role: 'owner' },
        { type: 'update_room', room, title: 'Taken over' },
        { type: 'update_room', room, topic: 'a new topic' },
        { type: 'update_room', room, archived: true },
      ]) {
        member.say(message)
        await refusal(member, 'forbidden')
      }
    })

    it('a moderator may set the topic, but not rename, archive, change roles or remove a moderator', async () => {
      moderator.say({ type: 'update_room', room, topic: 'set by the moderator' })
      const changed = await member.next('room_updated', (frame) => frame.summary?.room === room)
      expect(changed.summary).toMatchObject({ topic: 'set by the moderator', role: 'member' })
      for (const message of [
        { type: 'update_room', room, title: 'Renamed' },
        { type: 'update_room', room, archived: true },
        { type: 'set_role', room, user: member.id, role: 'moderator' },
        { type: 'remove_member', room, user: owner.id },
      ]) {
        moderator.say(message)
        await refusal(moderator, 'forbidden')
      }
    })

    it('a moderator may invite and remove a member', async () => {
      moderator.say({ type: 'invite', room, user: other.id })
      await other.next('room_created', (frame) => frame.room === room)
      moderator.say({ type: 'remove_member', room, user: other.id })
      await other.next('room_removed', (frame) => frame.room === room)
    })

    it('an owner renames, changes roles (not their own), and archives: an archived room is read-only', async () => {
      owner.say({ type: 'update_room', room, title: 'Renamed plans' })
      expect(
        (await member.next('room_updated', (frame) => frame.summary?.title === 'Renamed plans')).summary,
      ).toMatchObject({ room })
      owner.say({ type: 'set_role', room, user: owner.id, role: 'member' })
      await refusal(owner, 'forbidden')
      owner.say({ type: 'set_role', room, user: other.id, role: 'moderator' })
      await refusal(owner, 'not_member')
      await join(member, room)
      owner.say({ type: 'update_room', room, archived: true })
      await member.next('room_updated', (frame) => frame.summary?.archived === true)
      member.say({ type: 'send', room, clientId: crypto.randomUUID(), text: 'into the archive' })
      await refusal(member, 'archived')
      member.say({ type: 'typing', room, typing: true })
      await refusal(member, 'archived')
      // still readable
      member.say({ type: 'history', room })
      await member.next('history', (frame) => frame.room === room)
      owner.say({ type: 'update_room', room, archived: false })
      await member.next('room_updated', (frame) => frame.summary?.archived === false)
      await send(member, room, 'open again')
    })

    it('the last owner leaving hands the room to the longest-standing moderator', async () => {
      owner.say({ type: 'leave_room', room })
      await owner.next('room_removed', (frame) => frame.room === room)
      const promoted = await moderator.next('room_updated', (frame) => frame.summary?.role === 'owner')
      expect(promoted.summary!.room).toBe(room)
      moderator.say({ type: 'members', room })
      const { members } = await moderator.next('members')
      expect(members!.map((entry) => [entry.user.id, entry.role])).toEqual([
        [moderator.id, 'owner'],
        [member.id, 'member'],
      ])
    })
  })

  it('the instance admin sees every room and manages it', async () => {
    const [owner, boss] = [await newUser(), await admin()]
    const room = await privateRoom(owner)
    boss.say({ type: 'rooms' })
    expect((await boss.next('rooms')).rooms).toContain(room)
    await join(boss, room)
    boss.say({ type: 'update_room', room, topic: 'moderated by the admin' })
    await owner.next('room_updated', (frame) => frame.summary?.topic === 'moderated by the admin')
  })

  it('counts the unread messages that mention the user apart, live and after a reconnect, until read', async () => {
    const [writer, reader] = [await newUser(), await newUser()]
    const room = await privateRoom(writer)
    await withRole(writer, room, reader, 'member')
    await join(writer, room)
    await send(writer, room, 'nobody in particular')
    await send(writer, room, `a question for @${reader.name}`)
    expect((await reader.next('activity', (frame) => frame.seq === 1)).mentioned).toBeUndefined()
    expect((await reader.next('activity', (frame) => frame.seq === 2)).mentioned).toBe(true)
    const again = await connect(reader.token)
    expect(again.welcome.roomList!.find((summary) => summary.room === room)).toMatchObject({
      unread: 2,
      mentions: 1,
    })
    // the writer is not mentioned by their own message
    const writerAgain = await connect(writer.token)
    expect(writerAgain.welcome.roomList!.find((summary) => summary.room === room)).toMatchObject({
      mentions: 0,
    })
    again.say({ type: 'read', room, seq: 2 })
    await again.next('read', (frame) => frame.room === room)
    const third = await connect(reader.token)
    expect(third.welcome.roomList!.find((summary) => summary.room === room)).toMatchObject({
      unread: 0,
      mentions: 0,
    })
  })

  it('counts a mention an edit adds to an unread message, live and after a reconnect; an edit taking it back uncounts it', async () => {
    const [writer, reader] = [await newUser(), await newUser()]
    const room = await privateRoom(writer)
    await withRole(writer, room, reader, 'member')
    await join(writer, room)
    await send(writer, room, 'a question for nobody')
    expect((await reader.next('activity', (frame) => frame.seq === 1)).mentioned).toBeUndefined()
    writer.say({ type: 'edit', room, seq: 1, text: `a question for @${reader.name}` })
    expect(await reader.next('activity', (frame) => frame.seq === 2)).toMatchObject({
      room,
      mentioned: true,
      change: 'edited',
    })
    const again = await connect(reader.token)
    expect(again.welcome.roomList!.find((summary) => summary.room === room)).toMatchObject({
      unread: 1,
      mentions: 1,
    })
    // taken back: the room list no longer counts it; a reaction is no news at all
    writer.say({ type: 'edit', room, seq: 1, text: 'a question for someone else' })
    writer.say({ type: 'react', room, seq: 1, emoji: '👍', on: true })
    await send(writer, room, 'next')
    await reader.next('activity', (frame) => frame.seq === 5)
    expect(
      reader
        .frames()
        .filter((frame) => frame.type === 'activity')
        .map((frame) => frame.seq),
    ).toEqual([1, 2, 5])
    const third = await connect(reader.token)
    expect(third.welcome.roomList!.find((summary) => summary.room === room)).toMatchObject({
      unread: 2,
      mentions: 0,
    })
    // a mention added to a message already read is not counted: the room list would not count it either
    third.say({ type: 'read', room, seq: 5 })
    await third.next('read', (frame) => frame.room === room)
    writer.say({ type: 'edit', room, seq: 1, text: `a question for @${reader.name} after all` })
    await send(writer, room, 'and another')
    expect((await third.next('activity', (frame) => frame.seq === 7)).mentioned).toBeUndefined()
    expect(third.frames().filter((frame) => frame.type === 'activity' && frame.seq === 6)).toEqual([])
  })

  it('counts no second mention when an edit adds @room to a message that named the user already', async () => {
    const [writer, named, other] = [await newUser(), await newUser(), await newUser()]
    const room = await privateRoom(writer)
    await withRole(writer, room, named, 'member')
    await withRole(writer, room, other, 'member')
    await join(writer, room)
    await send(writer, room, `a question for @${named.name}`)
    expect((await named.next('activity', (frame) => frame.seq === 1)).mentioned).toBe(true)
    // the owner's @room counts: news to the other member, not to the one named already
    writer.say({ type: 'edit', room, seq: 1, text: `a question for @${named.name} and @room` })
    expect(await other.next('activity', (frame) => frame.seq === 2)).toMatchObject({ mentioned: true })
    await send(writer, room, 'next')
    await named.next('activity', (frame) => frame.seq === 3)
    expect(named.frames().filter((frame) => frame.type === 'activity' && frame.seq === 2)).toEqual([])
    // live and after a reconnect, one message mentions them once
    const again = await connect(named.token)
    expect(again.welcome.roomList!.find((summary) => summary.room === room)).toMatchObject({
      unread: 2,
      mentions: 1,
    })
  })

  it('refuses a mention hint beyond a user id as invalid, on a send and an edit, before any query', async () => {
    const writer = await newUser()
    const room = await privateRoom(writer)
    await join(writer, room)
    await send(writer, room, 'plain')
    // above the largest bigint: once a server error for the query, now a refusal in words
    const huge = '9223372036854775808'
    writer.say({ type: 'send', room, clientId: 'huge-hint', text: 'hi @x', mentions: [huge] })
    expect(
      await writer.next('error', (frame) => (frame as { ref?: string }).ref === 'huge-hint'),
    ).toMatchObject({
      code: 'invalid_message',
      stored: false,
    })
    writer.say({ type: 'edit', room, seq: 1, text: 'hi @x', mentions: [huge], ref: 'huge-edit' })
    expect(
      await writer.next('error', (frame) => (frame as { ref?: string }).ref === 'huge-edit'),
    ).toMatchObject({
      code: 'invalid_message',
      stored: false,
    })
  })

  it('answers members by the start of their name for @name completion, echoing the query', async () => {
    const [owner, member, outsider] = [await newUser(), await newUser(), await newUser()]
    const room = await privateRoom(owner)
    await withRole(owner, room, member, 'member')
    owner.say({ type: 'members', room, query: member.name.slice(0, 12).toUpperCase() })
    // the invitation was answered with the whole list first: the answer to the query is the one naming it
    const found = await owner.next('members', (frame) => frame.room === room && frame.query !== undefined)
    expect(found.query).toBe(member.name.slice(0, 12).toUpperCase())
    expect(found.members!.map((entry) => entry.user.id)).toContain(member.id)
    expect(found.members!.map((entry) => entry.user.id)).not.toContain(outsider.id)
    // a private room's members are no one else's to look through
    outsider.say({ type: 'members', room, query: '' })
    await refusal(outsider, 'unknown_room')
  })

  it('counts unread messages by others, moves the read marker forward only, and tells the user’s other connections', async () => {
    const [writer, reader] = [await newUser(), await newUser()]
    const room = await privateRoom(writer)
    await withRole(writer, room, reader, 'member')
    await join(writer, room)
    for (const text of ['one', 'two', 'three']) await send(writer, room, text)
    // the reader has the room listed but not open: told of each message, not sent it
    await reader.next('activity', (frame) => frame.room === room && frame.seq === 3)
    expect(reader.frames().some((frame) => frame.type === 'message')).toBe(false)
    // counts survive a reconnect: they come from the database
    const again = await connect(reader.token)
    expect(again.welcome.roomList!.find((summary) => summary.room === room)).toMatchObject({
      unread: 3,
      lastReadSeq: 0,
      lastSeq: 3,
    })
    again.say({ type: 'read', room, seq: 2 })
    expect((await reader.next('read', (frame) => frame.room === room)).seq).toBe(2)
    again.say({ type: 'read', room, seq: 1 })
    expect((await again.next('read', (frame) => frame.seq === 2 && frame.room === room)).seq).toBe(2)
    const third = await connect(reader.token)
    expect(third.welcome.roomList!.find((summary) => summary.room === room)).toMatchObject({
      unread: 1,
      lastReadSeq: 2,
    })
    // the writer's own messages are never unread to them, and a marker stops at the last message
    third.say({ type: 'read', room, seq: 99 })
    await third.next('read', (frame) => frame.room === room && frame.seq === 3)
    const writerAgain = await connect(writer.token)
    expect(writerAgain.welcome.roomList!.find((summary) => summary.room === room)).toMatchObject({
      unread: 0,
    })
  })

  it('joining a public room makes a member, kept after a reconnect', async () => {
    const [owner, joiner] = [await newUser(), await newUser()]
    const room = `public-${unique()}`
    owner.say({ type: 'create_room', room })
    await joiner.next('room_created', (frame) => frame.room === room)
    await join(joiner, room)
    await joiner.next(
      'room_updated',
      (frame) => frame.summary?.room === room && frame.summary.role === 'member',
    )
    const again = await connect(joiner.token)
    expect(again.welcome.roomList!.find((summary) => summary.room === room)).toMatchObject({ role: 'member' })
    joiner.say({ type: 'find_users', query: owner.name.slice(0, 10) })
    const found = await joiner.next('users')
    expect(found.users!.map((user) => user.id)).toContain(owner.id)
  })
})
