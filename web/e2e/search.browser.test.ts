import type { Page } from 'playwright-core'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { openSocket } from '../../server/src/test/ws-client.ts'
import { browserSuite } from './browser-suite'
import { logIn, registerAccount, type Account } from './chat-page'

const via = process.env.E2E_STACK === '1' ? ', through nginx' : ''

describe(`message search in the SPA, in Chromium${via}`, () => {
  const suite = browserSuite()
  const { contexts } = suite

  /** a room made over the chat protocol, with one message in it; answers the message's seq */
  async function roomWithMessage(account: Account, room: string, text: string): Promise<number> {
    const socket = await openSocket(`${suite.server.url.replace('http', 'ws')}/ws`, [
      'chat.v1',
      `bearer.${account.token}`,
    ])
    try {
      const say = (message: unknown) => socket.socket.send(JSON.stringify(message))
      say({ type: 'create_room', room })
      await socket.nextOfType('room_created')
      say({ type: 'join', room })
      await socket.nextOfType('joined')
      say({ type: 'send', room, clientId: crypto.randomUUID(), text })
      const ack = await socket.nextOfType<{ seq: number }>('ack')
      return ack.seq
    } finally {
      socket.socket.close()
    }
  }

  /**
   * Who is in which room, and the room's kind: this version has no API for membership yet (issue 10's
   * rooms), so the test writes room_members as that API will.
   */
  async function setMembers(room: string, kind: 'public' | 'private', accounts: Account[]) {
    const client = new pg.Client({ connectionString: suite.server.databaseUrl })
    await client.connect()
    try {
      await client.query('update rooms set kind = $2 where name = $1', [room, kind])
      await client.query(`delete from room_members where room_id = (select id from rooms where name = $1)`, [
        room,
      ])
      await client.query(
        `insert into room_members (room_id, user_id)
         select r.id, u.id from rooms r, users u where r.name = $1 and u.email = any($2)`,
        [room, accounts.map((account) => account.email)],
      )
    } finally {
      await client.end()
    }
  }

  const searchFor = async (page: Page, text: string) => {
    await page.getByRole('searchbox', { name: 'Search messages' }).fill(text)
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    const results = page.getByRole('list', { name: 'Found messages' })
    await page
      .getByRole('region', { name: 'Search results' })
      .getByRole('status')
      .filter({ hasNotText: 'Searching' })
      .waitFor()
    return results
  }

  it('finds a message of a room the user is in, marks the match, links to it, and hides a private room', async () => {
    const [alice, bob] = [await registerAccount(suite.server.url), await registerAccount(suite.server.url)]
    const tag = crypto.randomUUID().slice(0, 6)
    const [shared, secret] = [`shared-${tag}`, `secret-${tag}`]
    const word = `zebra${tag}`
    const seq = await roomWithMessage(alice, shared, `the ${word} launch is <b>friday</b>`)
    await roomWithMessage(bob, secret, `the ${word} private plan`)
    await setMembers(shared, 'public', [alice, bob])
    await setMembers(secret, 'private', [bob])

    const page = await contexts.newPage()
    await logIn(page, suite.server.url, alice)
    const results = await searchFor(page, word)
    const found = results.getByRole('listitem')
    await expect.poll(() => found.count()).toBe(1)
    // the match is marked, and markup in the message is text
    expect(await found.locator('mark').allTextContents()).toEqual([word])
    expect(await found.textContent()).toContain(`the ${word} launch is <b>friday</b>`)
    expect(await page.getByText('private plan').count()).toBe(0)
    const link = found.getByRole('link')
    expect(await link.getAttribute('href')).toBe(`/app/rooms/${shared}?message=${seq}`)
    await link.click()
    await page.waitForURL(`**/app/rooms/${shared}?message=${seq}`)
    expect(await page.getByRole('region', { name: 'Search results' }).count()).toBe(0)

    // filters: an author who wrote nothing here finds nothing; the room's name finds it again
    const again = await searchFor(page, word)
    await page.getByLabel('Author').fill('Nobody at all')
    await page.getByRole('button', { name: 'Apply filters' }).click()
    await page.getByRole('status').filter({ hasText: 'No messages found.' }).waitFor()
    await page.getByLabel('Author').fill('')
    await page.getByLabel('Room', { exact: true }).selectOption(shared)
    await page.getByRole('button', { name: 'Apply filters' }).click()
    await expect.poll(() => again.getByRole('listitem').count()).toBe(1)

    // bob, a member of both, finds both
    const bobPage = await contexts.newPage()
    await logIn(bobPage, suite.server.url, bob)
    const bobs = await searchFor(bobPage, word)
    await expect.poll(() => bobs.getByRole('listitem').count()).toBe(2)
  })

  it('says in words what is wrong with a search', async () => {
    const page = await contexts.newPage()
    await logIn(page, suite.server.url, await registerAccount(suite.server.url))
    await searchFor(page, '?!')
    await page.getByRole('alert').filter({ hasText: 'Type a word to search for.' }).waitFor()
  })
})
