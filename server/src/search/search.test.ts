import { SEARCH_MATCHES_MAX, type SearchPage, type SearchResult } from '@chat/contract'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ChatRepository } from '../chat/chat-repository.ts'
import { RoomRepository } from '../chat/room-repository.ts'
import { backends } from '../test/backends.ts'
import { bearer, newEmail, postJson, startTestApp, type TestApp } from '../test/test-app.ts'
import { SEARCHES_PER_MINUTE } from './search-service.ts'

interface Member {
  id: string
  name: string
  token: string
}

describe.each(backends)('message search on $name', (backend) => {
  let t: TestApp
  let chat: ChatRepository
  let rooms: RoomRepository
  // a run of its own: every word the tests search for is made unique with it
  const tag = `t${crypto.randomUUID().slice(0, 6)}`
  let alice: Member
  let bob: Member
  let carol: Member

  beforeAll(async () => {
    t = await startTestApp(backend)
    chat = new ChatRepository(t.app.db)
    rooms = new RoomRepository(t.app.db)
    alice = await register('Alice')
    bob = await register('Bob')
    carol = await register('Carol')
  })
  afterAll(() => t?.close())

  async function register(name: string): Promise<Member> {
    const email = newEmail()
    const password = 'a-good-password'
    const response = await postJson(t.app, '/api/v1.0/user/register', { email, password, display_name: name })
    const token = response.json().data.access_token as string
    const me = await t.app.inject({ method: 'GET', url: '/api/v1.0/user/me', headers: bearer(token) })
    return { id: me.json().data.id as string, name, token }
  }

  /** a room of this run and its members: the first its owner (none: a room nobody is in) */
  async function room(suffix: string, kind: 'public' | 'private', members: Member[]) {
    const name = `${tag}-${suffix}`
    const owner = members[0]?.id ?? alice.id
    const created = (await rooms.createRoom(name, kind, `Title of ${suffix}`, '', owner))!
    if (members.length === 0) await rooms.removeMember(created.id, owner)
    for (const member of members.slice(1)) await rooms.addMember(created.id, member.id)
    const found = (await chat.findRoom(name))!
    return { name, found }
  }

  async function post(roomName: string, author: Member, text: string) {
    const found = (await chat.findRoom(roomName))!
    const [stored] = await chat.insertMessages(found, [
      { author: { id: author.id, name: author.name, verified: false }, clientId: crypto.randomUUID(), text },
    ])
    return stored!.message
  }

  const search = (member: Member, query: Record<string, string>) =>
    t.app.inject({
      method: 'GET',
      url: `/api/v1.0/search?${new URLSearchParams(query).toString()}`,
      headers: bearer(member.token),
    })
  const found = async (member: Member, query: Record<string, string>): Promise<SearchPage> => {
    const response = await search(member, query)
    expect(response.statusCode, response.body).toBe(200)
    return response.json().data as SearchPage
  }
  const texts = (results: SearchResult[]) =>
    results.map((result) => result.snippet.map((p) => p.text).join(''))

  it('finds only messages of rooms the user is a member of, whatever the filters', async () => {
    const word = `${tag}secret`
    const shared = await room('shared', 'public', [alice, bob])
    const hidden = await room('hidden', 'private', [carol])
    const open = await room('open', 'public', [carol])
    await post(shared.name, alice, `the ${word} plan`)
    await post(hidden.name, carol, `the ${word} private plan`)
    await post(open.name, carol, `the ${word} public plan`)

    expect(texts((await found(bob, { q: word })).results)).toEqual([`the ${word} plan`])
    expect(texts((await found(carol, { q: word })).results).sort()).toEqual([
      `the ${word} private plan`,
      `the ${word} public plan`,
    ])
    // a non-member reaches neither room by naming it, nor by naming its author, nor by paging on
    const reachAttempts: Record<string, string>[] = [
      { q: word, room: hidden.name },
      { q: word, room: open.name },
      { q: word, author: 'Carol' },
      { q: word, offset: '1' },
      { q: `${word} private` },
    ]
    for (const query of reachAttempts) expect((await found(bob, query)).results).toEqual([])
    // the member gets the result whole: room, author, seq, time
    const [result] = (await found(carol, { q: word, room: hidden.name })).results
    expect(result).toMatchObject({
      room: { name: hidden.name, title: 'Title of hidden' },
      seq: 1,
      author: { id: carol.id, name: 'Carol', verified: false },
    })
    expect(Date.parse(result!.at)).toBeGreaterThan(Date.now() - 60_000)
    // leaving the room (the membership row gone) takes its messages out of the user's results at once
    await sql`delete from room_members where room_id = ${hidden.found.id} and user_id = ${carol.id}`.execute(
      t.app.db,
    )
    expect(texts((await found(carol, { q: word })).results)).toEqual([`the ${word} public plan`])
  })

  it('marks the matched words, in parts of plain text, and matches word beginnings', async () => {
    const shared = await room('marks', 'public', [alice])
    await post(shared.name, alice, `We ${tag}deployed <b>it</b> & ${tag}DEPLOY again\tnow`)
    const [result] = (await found(alice, { q: `${tag}deploy` })).results
    expect(result!.snippet).toEqual([
      { text: 'We ', match: false },
      { text: `${tag}deployed`, match: true },
      { text: ' <b>it</b> & ', match: false },
      { text: `${tag}DEPLOY`, match: true },
      { text: ' again now', match: false },
    ])
    // operators of tsquery syntax are words to find, never syntax
    expect((await found(alice, { q: `${tag}deploy & !it | ' :*` })).results).toHaveLength(1)
  })

  it('ranks better matches first, then newer ones', async () => {
    const shared = await room('rank', 'public', [alice])
    const [one, two] = [`${tag}alpha`, `${tag}beta`]
    const older = await post(shared.name, alice, `${one} once, then other words in a long enough message`)
    const both = await post(shared.name, alice, `${one} and ${two}`)
    const twice = await post(shared.name, alice, `${one} ${one}`)
    const newer = await post(shared.name, alice, `${one} once, then other words in a long enough message`)
    const ids = (page: SearchPage) => page.results.map((result) => result.id)
    expect(ids(await found(alice, { q: one }))).toEqual([twice.id, both.id, newer.id, older.id])
    expect(ids(await found(alice, { q: `${one} ${two}` }))).toEqual([both.id])
  })

  it('filters by room, author (display name, any case) and dates, and pages', async () => {
    const word = `${tag}filter`
    const first = await room('filter-a', 'public', [alice, bob])
    const second = await room('filter-b', 'public', [alice, bob])
    const posted = []
    for (let n = 0; n < 5; n++)
      posted.push(await post(first.name, n % 2 ? bob : alice, `${word} number ${n}`))
    posted.push(await post(second.name, bob, `${word} elsewhere`))
    // back-date two messages (the chat stamps its own clock)
    await sql`update messages set created_on = '2026-01-15T12:00:00Z' where id in (${posted[0]!.id}, ${posted[1]!.id})`.execute(
      t.app.db,
    )

    expect((await found(alice, { q: word })).results).toHaveLength(6)
    expect((await found(alice, { q: word, room: second.name })).results.map((r) => r.id)).toEqual([
      posted[5]!.id,
    ])
    const byBob = (await found(alice, { q: word, author: 'bOB' })).results
    expect(byBob.map((r) => r.author.name)).toEqual(['Bob', 'Bob', 'Bob'])
    expect((await found(alice, { q: word, author: 'Nobody' })).results).toEqual([])
    const january = await found(alice, { q: word, from: '2026-01-01', to: '2026-02-01' })
    expect(january.results.map((r) => r.id).sort()).toEqual([posted[0]!.id, posted[1]!.id].sort())
    expect((await found(alice, { q: word, from: '2026-01-15T12:00:01Z' })).results).toHaveLength(4)
    expect((await found(alice, { q: word, to: '2026-01-15T12:00:00Z' })).results).toEqual([])

    const pageOne = await found(alice, { q: word, limit: '4' })
    const pageTwo = await found(alice, { q: word, limit: '4', offset: '4' })
    expect([pageOne.results.length, pageOne.hasMore, pageTwo.results.length, pageTwo.hasMore]).toEqual([
      4,
      true,
      2,
      false,
    ])
    const all = [...pageOne.results, ...pageTwo.results].map((r) => r.id)
    expect(new Set(all).size).toBe(6)
  })

  it(`pages through the newest ${SEARCH_MATCHES_MAX} matches, and no further`, async () => {
    const word = `${tag}many`
    const shared = await room('many', 'public', [alice])
    const found0 = (await chat.findRoom(shared.name))!
    const author = { id: alice.id, name: alice.name, verified: false }
    const batch = Array.from({ length: SEARCH_MATCHES_MAX + 1 }, (_, n) => ({
      author,
      clientId: crypto.randomUUID(),
      text: `${word} ${n}`,
    }))
    const stored = await chat.insertMessages(found0, batch)
    const last = await found(alice, { q: word, offset: String(SEARCH_MATCHES_MAX - 10), limit: '50' })
    expect([last.results.length, last.hasMore]).toEqual([10, false])
    const oldest = stored[0]!.message.id
    for (let offset = 0; offset < SEARCH_MATCHES_MAX; offset += 50) {
      const page = await found(alice, { q: word, offset: String(offset), limit: '50' })
      expect(page.results.map((result) => result.id)).not.toContain(oldest)
    }
  })

  it('never finds a message whose text was blanked (deleted)', async () => {
    const shared = await room('deleted', 'public', [alice])
    const message = await post(shared.name, alice, `${tag}gone for good`)
    expect((await found(alice, { q: `${tag}gone` })).results).toHaveLength(1)
    await sql`update messages set body = '' where id = ${message.id}`.execute(t.app.db)
    expect((await found(alice, { q: `${tag}gone` })).results).toEqual([])
  })

  it('answers 400 in words for bad input, and 401 without a session', async () => {
    const bad = async (query: Record<string, string>) => {
      const response = await search(alice, query)
      expect(response.statusCode).toBe(400)
      return response.json().data as Record<string, string[]>
    }
    expect(await bad({})).toEqual({ q: ['Missing data for required field.'] })
    expect(await bad({ q: '   ' })).toEqual({ q: ['Type a word to search for.'] })
    expect(await bad({ q: '?!' })).toEqual({ q: ['Type a word to search for.'] })
    expect(Object.keys(await bad({ q: 'x'.repeat(201) }))).toEqual(['q'])
    expect(await bad({ q: 'plan', from: 'yesterday', to: '2026-02-30' })).toEqual({
      from: ['Not a date: use an ISO 8601 date (2026-11-29) or date-time (2026-11-29T09:30:00Z).'],
      to: ['Not a date: use an ISO 8601 date (2026-11-29) or date-time (2026-11-29T09:30:00Z).'],
    })
    expect(await bad({ q: 'plan', from: '2026-03-01', to: '2026-02-01' })).toEqual({
      to: ['Must come after "from".'],
    })
    expect(await bad({ q: 'plan', room: 'No Such Room', limit: '51', offset: '-1' })).toEqual({
      room: ['There is no room with such a name.'],
      offset: ['A whole number from 0 to 500.'],
      limit: ['A whole number from 1 to 50.'],
    })
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1.0/search?q=plan' })
    expect(anonymous.statusCode).toBe(401)
  })

  it(`allows ${SEARCHES_PER_MINUTE} searches a minute per user, then 429 with Retry-After`, async () => {
    const searcher = await register('Dave')
    for (let n = 0; n < SEARCHES_PER_MINUTE; n++)
      expect((await search(searcher, { q: 'plan' })).statusCode).toBe(200)
    const refused = await search(searcher, { q: 'plan' })
    expect(refused.statusCode).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    expect(refused.json().data).toMatch(/^Too many searches; try again in \d+ seconds?$/)
    // another user is not held back by it
    expect((await search(alice, { q: 'plan' })).statusCode).toBe(200)
  })
})
