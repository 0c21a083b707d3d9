import { HISTORY_PAGE_MAX, MEMBER_MATCHES_MAX, type ChatUser } from '@chat/contract'
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryId,
  RootOperationNode,
} from 'kysely'
import { CompiledQuery, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createDatabase, type Db } from '../db/database.ts'
import { migrate } from '../db/migrator.ts'
import { createTestDatabase } from '../test/backends.ts'
import { testPgliteDir } from '../test/pglite-template.ts'
import { UserRepository } from '../users/user-repository.ts'
import { AnnouncementFailed } from './chat-problem.ts'
import { ChatRepository, entrySeq, type Room } from './chat-repository.ts'
import { RoomRepository } from './room-repository.ts'

/** Counts the statements run and the rows they hand back: what a read costs, whatever the room's size. */
class QueryCounter implements KyselyPlugin {
  queries = 0
  rows = 0
  transformQuery(args: PluginTransformQueryArgs) {
    this.queries++
    return args.node
  }
  async transformResult(args: PluginTransformResultArgs) {
    this.rows += args.result.rows.length
    return args.result
  }
}

/** Keeps the statements run, to be planned again (`EXPLAIN ANALYZE`) by a test. */
class QueryRecorder implements KyselyPlugin {
  readonly queries: { node: RootOperationNode; queryId: QueryId }[] = []
  transformQuery(args: PluginTransformQueryArgs) {
    this.queries.push({ node: args.node, queryId: args.queryId })
    return args.node
  }
  async transformResult(args: PluginTransformResultArgs) {
    return args.result
  }
}

/** How many times each table was read by a plan of `EXPLAIN (ANALYZE, FORMAT JSON)`: its nodes' loops. */
function tableReads(plan: unknown, reads = new Map<string, number>()): Map<string, number> {
  const node = plan as { 'Relation Name'?: string; 'Actual Loops'?: number; Plans?: unknown[] }
  if (node['Relation Name'])
    reads.set(node['Relation Name'], (reads.get(node['Relation Name']) ?? 0) + (node['Actual Loops'] ?? 0))
  for (const child of node.Plans ?? []) tableReads(child, reads)
  return reads
}

const databases = [
  {
    name: 'PostgreSQL',
    /** serves several statements at once (a pool): edits can race */
    concurrent: true,
    async open() {
      const database = await createTestDatabase()
      return { db: createDatabase({ kind: 'postgres', url: database.url }), drop: database.drop }
    },
  },
  {
    name: 'PGlite',
    concurrent: false,
    async open() {
      const pglite = testPgliteDir()
      return {
        db: createDatabase({ kind: 'pglite', dataDir: pglite.dataDir }),
        drop: async () => pglite.drop(),
      }
    },
  },
]

describe.each(databases)('the message log on $name', ({ open, concurrent }) => {
  let db: Db
  let drop: () => Promise<void>
  let repository: ChatRepository
  let users: ChatUser[]
  let rooms = 0
  let clientIds = 0

  beforeAll(async () => {
    ;({ db, drop } = await open())
    await migrate(db, 'latest')
    repository = new ChatRepository(db)
    const userRepository = new UserRepository(db)
    users = []
    for (const [name, admin] of [
      ['Ada', false],
      ['Bob', false],
      ['Mod', false],
      ['Root', true],
    ] as const) {
      const user = (await userRepository.insert({
        email: `${name.toLowerCase()}-${crypto.randomUUID()}@example.com`,
        displayName: name,
        passwordHash: 'x',
        admin,
      }))!
      users.push({ id: user.id, name: user.displayName, verified: user.confirmed })
    }
  }, 60_000)
  afterAll(async () => {
    await db.destroy()
    await drop()
  })

  const ada = () => users[0]!
  const bob = () => users[1]!
  const mod = () => users[2]!
  const root = () => users[3]!

  async function newRoom(): Promise<Room> {
    const name = `room-${++rooms}`
    const members = new RoomRepository(db)
    const created = (await members.createRoom(name, 'public', name, '', ada().id))!
    await members.addMember(created.id, bob().id)
    await members.addMember(created.id, mod().id, 'moderator')
    return (await repository.findRoom(name))!
  }
  const send = async (room: Room, author: ChatUser, text: string, extra = {}) =>
    (await repository.insertMessages(room, [{ author, clientId: `c-${++clientIds}`, text, ...extra }]))[0]!
      .message

  /** The user's count of unread mentions in the room, as their room list says it. */
  const mentionCount = async (room: Room, userId: string) =>
    (await new RoomRepository(db).roomList(userId, false)).find(
      (listing) => listing.record.name === room.name,
    )?.mentions

  /** `count` messages, as a room that has lived long (in chunks: each statement well within the timeout). */
  async function fill(room: Room, count: number): Promise<void> {
    for (let from = 1; from <= count; from += 10_000) {
      await sql`insert into messages (room_id, seq, user_id, client_id, body)
        select ${room.id}, g, ${ada().id}, 'bulk-' || ${room.id} || '-' || g, 'message ' || g
        from generate_series(${from}::bigint, ${Math.min(from + 9_999, count)}::bigint) g`.execute(db)
    }
    await sql`update rooms set last_seq = ${count} where id = ${room.id}`.execute(db)
  }

  it('edits and deletes take the next seq and come back, in order, in a page read forward', async () => {
    const room = await newRoom()
    const first = await send(room, ada(), 'first')
    const second = await send(room, bob(), 'second')
    const edited = await repository.editMessage(room, first.seq, ada(), 'first, better')
    const deleted = await repository.deleteMessage(room, second.seq, bob())
    const third = await send(room, ada(), 'third')
    expect(edited.refused).toBeUndefined()
    expect(!edited.refused && edited.update).toMatchObject({
      seq: 3,
      change: 'edited',
      message: { seq: 1, text: 'first, better', editedAt: expect.any(String) },
    })
    expect(!deleted.refused && deleted.update).toMatchObject({
      seq: 4,
      change: 'deleted',
      message: { seq: 2, text: '', deleted: true },
    })
    expect(third.seq).toBe(5)

    const entries = await repository.logAfter(room, 0, 10)
    expect(entries.map(entrySeq)).toEqual([1, 2, 3, 4, 5])
    const resumed = await repository.historyPage(room, { after: 1 }, 10)
    expect(resumed.messages.map((message) => message.seq)).toEqual([2, 5])
    expect(resumed.updates.map((update) => [update.seq, update.change, update.message.seq])).toEqual([
      [3, 'edited', 1],
      [4, 'deleted', 2],
    ])
    // a page of events fills the page like messages: paging on finds the rest
    const short = await repository.historyPage(room, { after: 2 }, 1)
    expect([short.updates.map((update) => update.seq), short.done]).toEqual([[3], false])
    // the text is gone from the database, not only from what is shown
    const { rows } = await sql<{ body: string }>`select body from messages where id = ${second.id}`.execute(
      db,
    )
    expect(rows).toEqual([{ body: '' }])
    // the newest page shows messages as they stand
    const newest = await repository.historyPage(room, {}, 10)
    expect(newest.messages.map((message) => [message.seq, message.text, message.deleted ?? false])).toEqual([
      [1, 'first, better', false],
      [2, '', true],
      [5, 'third', false],
    ])
  })

  it('lets only the author edit; author, owners, moderators and the instance admin delete', async () => {
    const room = await newRoom()
    const message = await send(room, bob(), 'by bob')
    expect(await repository.editMessage(room, message.seq, ada(), 'not mine')).toEqual({
      refused: 'forbidden',
    })
    expect(await repository.editMessage(room, message.seq, mod(), 'not mine')).toEqual({
      refused: 'forbidden',
    })
    const byAuthor = await repository.editMessage(room, message.seq, bob(), 'by bob, edited')
    expect(byAuthor.refused).toBeUndefined()

    const byMember = await send(room, ada(), 'by ada')
    expect(await repository.deleteMessage(room, byMember.seq, bob())).toEqual({ refused: 'forbidden' })
    for (const [who, target] of [
      [mod(), await send(room, ada(), 'a')],
      [ada(), await send(room, bob(), 'b')],
      [root(), await send(room, bob(), 'c')],
      [bob(), await send(room, bob(), 'd')],
    ] as const) {
      const outcome = await repository.deleteMessage(room, target.seq, who)
      expect(!outcome.refused && outcome.update?.by).toEqual(who)
    }
    expect(await repository.deleteMessage(room, message.seq, bob())).toMatchObject({
      update: { change: 'deleted' },
    })
    // deleted: gone for everyone, its earlier texts too
    expect(await repository.deleteMessage(room, message.seq, bob())).toEqual({ refused: 'unknown_message' })
    expect(await repository.editMessage(room, message.seq, bob(), 'back')).toEqual({
      refused: 'unknown_message',
    })
    expect(await repository.editMessage(room, 999, bob(), 'none')).toEqual({ refused: 'unknown_message' })
    expect(await repository.editHistory(room, message.seq, mod())).toEqual([])
  })

  it('keeps earlier texts for owners, moderators and the admin only', async () => {
    const room = await newRoom()
    const message = await send(room, bob(), 'one')
    await repository.editMessage(room, message.seq, bob(), 'two')
    await repository.editMessage(room, message.seq, bob(), 'three')
    for (const reader of [ada(), mod(), root()]) {
      const edits = await repository.editHistory(room, message.seq, reader)
      expect(edits?.map((edit) => edit.text)).toEqual(['one', 'two'])
    }
    expect(await repository.editHistory(room, message.seq, bob())).toBeUndefined()
  })

  it('says a change whose reading back failed is saved (AnnouncementFailed): it is committed', async () => {
    const room = await newRoom()
    const message = await send(room, bob(), 'before')
    const readBack = vi
      .spyOn(repository, 'messagesBySeq')
      .mockRejectedValueOnce(new Error('Connection terminated unexpectedly'))
    try {
      await expect(repository.editMessage(room, message.seq, bob(), 'after')).rejects.toBeInstanceOf(
        AnnouncementFailed,
      )
    } finally {
      readBack.mockRestore()
    }
    const [stored] = await repository.messagesBySeq(room, [message.seq])
    expect(stored!.text).toBe('after')
    expect((await repository.editHistory(room, message.seq, ada()))?.map((edit) => edit.text)).toEqual([
      'before',
    ])
  })

  if (concurrent)
    it('keeps mentions and earlier texts true when two edits of one message race', async () => {
      const room = await newRoom()
      const message = await send(room, ada(), 'hello')
      const texts = ['hello @bob', 'hello all']
      let edits: Promise<unknown>[] = []
      // both edits start while another holds the message row, and go on once it lets go
      await db.transaction().execute(async (trx) => {
        await sql`select 1 from messages where room_id = ${room.id} and seq = ${message.seq} for update`.execute(
          trx,
        )
        edits = texts.map((text) => repository.editMessage(room, message.seq, ada(), text))
        const deadline = Date.now() + 5_000
        for (;;) {
          const { rows } = await sql<{ waiting: number }>`select count(*)::int as waiting
            from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db)
          if (rows[0]!.waiting >= 2) break
          if (Date.now() > deadline) throw new Error('the two edits never waited for the message row')
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
      })
      await Promise.all(edits)
      const [last] = await repository.messagesBySeq(room, [message.seq])
      const first = texts.find((text) => text !== last!.text)
      // the later edit saw the earlier one: its text is kept, and its mention gone with the words
      expect((await repository.editHistory(room, message.seq, ada()))?.map((edit) => edit.text)).toEqual([
        'hello',
        first,
      ])
      expect(last!.mentions).toEqual(last!.text.includes('@bob') ? [bob().id] : undefined)
    })

  it('refuses changes in an archived room, in the same statement', async () => {
    const room = await newRoom()
    const message = await send(room, bob(), 'before the archive')
    await sql`update rooms set archived_on = now() where id = ${room.id}`.execute(db)
    expect(await repository.editMessage(room, message.seq, bob(), 'x')).toEqual({ refused: 'archived' })
    expect(await repository.deleteMessage(room, message.seq, mod())).toEqual({ refused: 'archived' })
    expect(await repository.react(room, message.seq, bob(), '👍', true)).toEqual({ refused: 'archived' })
    expect((await repository.findRoom(room.name))!.lastSeq).toBe(1)
  })

  it('toggles reactions as events, a repeat changing nothing, and shows who reacted', async () => {
    const room = await newRoom()
    const message = await send(room, ada(), 'react to me')
    const on = await repository.react(room, message.seq, bob(), '🎉', true)
    expect(await repository.react(room, message.seq, bob(), '🎉', true)).toEqual({ update: undefined })
    await repository.react(room, message.seq, mod(), '🎉', true)
    await repository.react(room, message.seq, ada(), '👍', true)
    expect(!on.refused && on.update).toMatchObject({ seq: 2, change: 'reactions' })
    const [shown] = (await repository.historyPage(room, {}, 5)).messages
    expect(shown!.reactions).toEqual([
      { emoji: '🎉', users: [bob(), mod()] },
      { emoji: '👍', users: [ada()] },
    ])
    const off = await repository.react(room, message.seq, bob(), '🎉', false)
    expect(!off.refused && off.update?.message.reactions).toEqual([
      { emoji: '🎉', users: [mod()] },
      { emoji: '👍', users: [ada()] },
    ])
    expect((await repository.findRoom(room.name))!.lastSeq).toBe(5)
  })

  it('quotes the message a reply answers, only from the same room, and follows its deletion', async () => {
    const room = await newRoom()
    const other = await newRoom()
    const original = await send(room, ada(), 'the question')
    const elsewhere = await send(other, ada(), 'elsewhere')
    const reply = await send(room, bob(), 'the answer', { replyTo: original.seq })
    expect(reply.replyTo).toEqual({ seq: original.seq, author: ada(), text: 'the question' })
    const stray = await send(room, bob(), 'stray', { replyTo: elsewhere.seq + 10 })
    expect(stray.replyTo).toBeUndefined()
    await repository.deleteMessage(room, original.seq, ada())
    const [, shown] = (await repository.historyPage(room, {}, 10)).messages
    expect(shown!.replyTo).toEqual({ seq: original.seq, author: ada(), text: '', deleted: true })
  })

  it('stores mentions of the named, @room only from moderators, and counts them after the read marker', async () => {
    const room = await newRoom()
    const named = await send(room, ada(), 'hello @bob and @Mod')
    expect(named.mentions?.sort()).toEqual([bob().id, mod().id].sort())
    const hinted = await send(room, ada(), 'hi @Root', { mentions: [root().id, bob().id] })
    // a hint the text does not name is dropped
    expect(hinted.mentions).toEqual([root().id])
    const byMember = await send(room, bob(), 'everyone! @room')
    expect(byMember.mentionsRoom).toBeUndefined()
    const byModerator = await send(room, mod(), '@room meeting now')
    expect(byModerator.mentionsRoom).toBe(true)

    const mentionsOf = (userId: string) => mentionCount(room, userId)
    expect(await mentionsOf(bob().id)).toBe(2)
    expect(await mentionsOf(mod().id)).toBe(1)
    await sql`update room_members set last_read_seq = ${named.seq} where room_id = ${room.id} and user_id = ${bob().id}`.execute(
      db,
    )
    expect(await mentionsOf(bob().id)).toBe(1)
    // Root is no member of the room: the count is for the room list of the rooms one is in
    expect(await mentionsOf(root().id)).toBeUndefined()
  })

  it('works mentions out again on an edit, in its statement: names added and removed, @room from moderators only', async () => {
    const room = await newRoom()
    const message = await send(room, ada(), 'hello @bob')
    expect(message.mentions).toEqual([bob().id])
    expect([await mentionCount(room, bob().id), await mentionCount(room, mod().id)]).toEqual([1, 0])

    const renamed = await repository.editMessage(room, message.seq, ada(), 'hello @Mod, not you b.')
    expect(!renamed.refused && renamed.update).toMatchObject({
      change: 'edited',
      message: { mentions: [mod().id] },
      mentionsAdded: [mod().id],
    })
    expect([await mentionCount(room, bob().id), await mentionCount(room, mod().id)]).toEqual([0, 1])
    // what a resume reads back is the message as it stands, without the live frame's news
    const [replayed] = (await repository.historyPage(room, { after: message.seq }, 5)).updates
    expect(replayed!.message.mentions).toEqual([mod().id])
    expect(replayed!.mentionsAdded).toBeUndefined()

    // the same name again is no news; none at all leaves no mention
    const same = await repository.editMessage(room, message.seq, ada(), 'hello again @mod')
    expect(!same.refused && same.update?.mentionsAdded).toBeUndefined()
    const none = await repository.editMessage(room, message.seq, ada(), 'hello nobody')
    expect(!none.refused && none.update?.message.mentions).toBeUndefined()
    expect(await mentionCount(room, mod().id)).toBe(0)

    // @room added by a plain member counts for nothing; by the owner it mentions everyone
    const bobs = await send(room, bob(), 'plain')
    const byMember = await repository.editMessage(room, bobs.seq, bob(), 'now @room')
    expect(!byMember.refused && byMember.update).not.toHaveProperty('message.mentionsRoom')
    expect(!byMember.refused && byMember.update?.mentionsRoomAdded).toBeUndefined()
    expect(await mentionCount(room, mod().id)).toBe(0)
    const byOwner = await repository.editMessage(room, message.seq, ada(), '@room and @bob, look')
    expect(!byOwner.refused && byOwner.update).toMatchObject({
      message: { mentionsRoom: true, mentions: [bob().id] },
      mentionsRoomAdded: true,
    })
    // bob is newly mentioned by the @room already: his name is no second piece of news
    expect(!byOwner.refused && byOwner.update?.mentionsAdded).toBeUndefined()
    expect([await mentionCount(room, bob().id), await mentionCount(room, mod().id)]).toEqual([1, 1])
    const unsaid = await repository.editMessage(room, message.seq, ada(), 'never mind')
    expect(!unsaid.refused && unsaid.update?.message).not.toHaveProperty('mentionsRoom')
    expect([await mentionCount(room, bob().id), await mentionCount(room, mod().id)]).toEqual([0, 0])

    // someone no member of the room, named by the client's hint, stays mentioned while the text names them
    const hinted = await repository.editMessage(room, message.seq, ada(), 'ask @Root', [root().id])
    expect(!hinted.refused && hinted.update?.message.mentions).toEqual([root().id])
    const kept = await repository.editMessage(room, message.seq, ada(), 'ask @root, please')
    expect(!kept.refused && kept.update?.message.mentions).toEqual([root().id])
    // a refused edit changes no mention
    expect(await repository.editMessage(room, message.seq, bob(), 'hi @bob')).toEqual({
      refused: 'forbidden',
    })
    const { rows } = await sql<{ user_id: string }>`select user_id::text from message_mentions
      where room_id = ${room.id} and seq = ${message.seq}`.execute(db)
    expect(rows).toEqual([{ user_id: root().id }])
  })

  it('reads no member of the room for an edit whose text has no @', async () => {
    const room = await newRoom()
    const message = await send(room, ada(), 'a typo')
    const recorder = new QueryRecorder()
    await new ChatRepository(db.withPlugin(recorder)).editMessage(room, message.seq, ada(), 'no typo')
    const edit = recorder.queries.find(({ node }) =>
      db.getExecutor().compileQuery(node, { queryId: 'q' }).sql.includes('message_edits'),
    )!
    const { sql: text, parameters } = db.getExecutor().compileQuery(edit.node, edit.queryId)
    // planned and run again, its changes rolled back: the same statement, as the database runs it
    const trx = await db.startTransaction().execute()
    let plan: unknown
    try {
      const { rows } = await trx.executeQuery<{ 'QUERY PLAN': unknown }>(
        CompiledQuery.raw(`explain (analyze, format json) ${text}`, [...parameters]),
      )
      plan = rows[0]!['QUERY PLAN']
    } finally {
      await trx.rollback().execute()
    }
    const reads = tableReads((plan as { Plan: unknown }[])[0]!.Plan)
    expect(reads.get('messages')).toBeGreaterThan(0)
    // neither the member list nor the accounts behind it (the planner drops them for a text without '@')
    expect([reads.get('room_members') ?? 0, reads.get('users') ?? 0]).toEqual([0, 0])
  })

  it('mentions a whole name only: @Bobby names no Bob, on a send and on an edit', async () => {
    const room = await newRoom()
    const longer = await send(room, ada(), 'hi @Bobby and @Modest')
    expect(longer.mentions).toBeUndefined()
    const edited = await repository.editMessage(room, longer.seq, ada(), 'hi @Bobby, and @bob_ too')
    expect(!edited.refused && edited.update?.message.mentions).toBeUndefined()
    const named = await repository.editMessage(room, longer.seq, ada(), 'hi @Bob, and @mod.')
    expect(!named.refused && named.update?.message.mentions?.sort()).toEqual([bob().id, mod().id].sort())
  })

  it('takes hints of a public room’s readers only: no outsider of a private room, no disabled account', async () => {
    const members = new RoomRepository(db)
    const name = `private-${++rooms}`
    await members.createRoom(name, 'private', name, '', ada().id)
    const secret = (await repository.findRoom(name))!
    const sent = await send(secret, ada(), 'ask @Root', { mentions: [root().id] })
    expect(sent.mentions).toBeUndefined()
    const edited = await repository.editMessage(secret, sent.seq, ada(), 'ask @Root again', [root().id])
    expect(!edited.refused && edited.update?.message.mentions).toBeUndefined()

    const userRepository = new UserRepository(db)
    const gone = (await userRepository.insert({
      email: `gone-${crypto.randomUUID()}@example.com`,
      displayName: `Gone ${crypto.randomUUID().slice(0, 6)}`,
      passwordHash: 'x',
    }))!
    await userRepository.update(gone.id, { disabled: true })
    const room = await newRoom()
    const toGone = await send(room, ada(), `ask @${gone.displayName}`, { mentions: [gone.id] })
    expect(toGone.mentions).toBeUndefined()
  })

  it('answers members by the start of their name, any case, at most MEMBER_MATCHES_MAX, however many match', async () => {
    const room = await newRoom()
    const members = new RoomRepository(db)
    const userRepository = new UserRepository(db)
    const tag = crypto.randomUUID().slice(0, 6)
    for (let i = 0; i < MEMBER_MATCHES_MAX + 5; i++) {
      const user = (await userRepository.insert({
        email: `many-${tag}-${i}@example.com`,
        displayName: `Many_${tag} ${String(i).padStart(2, '0')}`,
        passwordHash: 'x',
      }))!
      await members.addMember(room.id, user.id)
    }
    const many = await members.members(room.id, `many_${tag}`)
    expect(many.map((member) => member.user.name)).toEqual(
      Array.from({ length: MEMBER_MATCHES_MAX }, (_, i) => `Many_${tag} ${String(i).padStart(2, '0')}`),
    )
    expect((await members.members(room.id, 'BO')).map((member) => member.user.id)).toEqual([bob().id])
    // LIKE's wildcards are taken as the characters they are
    expect(await members.members(room.id, '%')).toEqual([])
    expect(await members.members(room.id, `Many%${tag}`)).toEqual([])
    // without a query: everyone, in the order they joined (room settings)
    expect(await members.members(room.id)).toHaveLength(3 + MEMBER_MATCHES_MAX + 5)
  })

  it('pages both ways through a room of 10,000 messages: every message once, in order', async () => {
    const room = await newRoom()
    await fill(room, 10_000)
    const backward: number[] = []
    let page = await repository.historyPage(room, {}, HISTORY_PAGE_MAX)
    backward.unshift(...page.messages.map((message) => message.seq))
    while (page.hasOlder) {
      page = await repository.historyPage(room, { before: backward[0]! }, HISTORY_PAGE_MAX)
      expect(page.messages.length).toBeLessThanOrEqual(HISTORY_PAGE_MAX)
      backward.unshift(...page.messages.map((message) => message.seq))
    }
    expect(backward).toEqual(Array.from({ length: 10_000 }, (_, index) => index + 1))

    const forward: number[] = []
    let after = 0
    for (;;) {
      const next = await repository.historyPage(room, { after }, 137)
      forward.push(...next.messages.map((message) => message.seq))
      if (next.done) break
      after = forward.at(-1)!
    }
    expect(forward).toEqual(backward)
  }, 60_000)

  it('reads one page of a room of 100,000 messages: a bounded number of statements and rows', async () => {
    const room = await newRoom()
    await fill(room, 100_000)
    const counter = new QueryCounter()
    const counted = new ChatRepository(db.withPlugin(counter))
    const started = performance.now()
    const page = await counted.historyPage(room, {}, 50)
    const elapsed = performance.now() - started
    expect(page.messages.map((message) => message.seq)).toEqual(
      Array.from({ length: 50 }, (_, index) => 100_000 - 49 + index),
    )
    expect(counter.queries).toBeLessThanOrEqual(2)
    // the page plus one row to tell whether more lie before it, and the probe's one row
    expect(counter.rows).toBeLessThanOrEqual(52)
    // an index walk, not a scan of the room: far below what reading 100,000 rows takes
    expect(elapsed).toBeLessThan(1_000)
  }, 120_000)
})
