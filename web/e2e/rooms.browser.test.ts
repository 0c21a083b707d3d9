import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { browserSuite } from './browser-suite'
import { connected, logIn as logInAs, messageItem, registerAccount, sendMessage } from './chat-page'

const via = process.env.E2E_STACK === '1' ? ', through nginx' : ''

describe(`rooms with members, two users in two browsers${via}`, () => {
  const suite = browserSuite({ WS_MESSAGES_PER_SECOND: '100' })
  const { contexts } = suite

  /** A new user logged in in a browser of their own. */
  async function person(): Promise<{ page: Page; name: string }> {
    const account = await registerAccount(suite.base)
    const page = await contexts.newPage()
    await logInAs(page, suite.base, account)
    return { page, name: account.name }
  }
  const roomLinks = (page: Page) => page.getByRole('list', { name: 'Rooms', exact: true }).getByRole('link')
  const directLinks = (page: Page) => page.getByRole('list', { name: 'Direct messages' }).getByRole('link')

  it('starts a direct message from a name, and the other sees it with an unread badge and the count in the title', async () => {
    const alice = await person()
    const bob = await person()
    // Alice finds Bob by his name
    await alice.page.getByLabel('Message someone').fill(bob.name)
    await alice.page
      .getByRole('list', { name: 'People found' })
      .getByRole('button', { name: `Message ${bob.name}` })
      .click()
    await alice.page.waitForURL(/\/app\/rooms\/dm-\d+-\d+$/)
    await expect
      .poll(() => alice.page.getByRole('heading', { level: 2, name: `@ ${bob.name}` }).count())
      .toBe(1)
    await sendMessage(alice.page, 'just between us')
    await messageItem(alice.page, 'just between us').waitFor()

    // Bob has it in his direct messages, titled with Alice's name, one unread; the tab says so too
    const fromAlice = directLinks(bob.page).filter({ hasText: alice.name })
    await expect.poll(() => fromAlice.getAttribute('aria-label')).toBe(`${alice.name}, 1 unread`)
    await expect.poll(() => bob.page.title()).toBe('(1) Chat')
    await fromAlice.click()
    await messageItem(bob.page, 'just between us').waitFor()
    await expect.poll(() => fromAlice.getAttribute('aria-label')).toBe(alice.name)
    await expect.poll(() => bob.page.title()).toBe('Chat')
    // read on one tab, read on the other: a second tab of Bob's shows no badge after a reload
    await bob.page.reload()
    await connected(bob.page).waitFor()
    await expect
      .poll(() => directLinks(bob.page).filter({ hasText: alice.name }).getAttribute('aria-label'))
      .toBe(alice.name)
  })

  it('a private room is invisible to others until its owner invites them by name; a removed member loses it', async () => {
    const owner = await person()
    const guest = await person()
    const room = `plans-${crypto.randomUUID().slice(0, 6)}`
    await owner.page.getByLabel('New room').fill(room)
    await owner.page.getByLabel('Private (members only)').check()
    await owner.page.getByRole('button', { name: 'Create' }).click()
    await owner.page.waitForURL(new RegExp(`/app/rooms/${room}$`))
    await roomLinks(owner.page).filter({ hasText: room }).waitFor()

    // the guest neither sees it listed nor opens it by its address
    expect(await roomLinks(guest.page).filter({ hasText: room }).count()).toBe(0)
    await guest.page.goto(`${suite.base}/app/rooms/${room}`)
    await connected(guest.page).waitFor()
    await expect
      .poll(() =>
        guest.page
          .getByRole('alert')
          .filter({ hasText: `There is no room named ${room}` })
          .count(),
      )
      .toBe(1)
    await guest.page.waitForURL(`${suite.base}/app/`)

    // invited by name from the room's settings
    await owner.page.getByRole('button', { name: 'Room settings' }).click()
    await owner.page.getByLabel('Invite by name').fill(guest.name)
    await owner.page.getByRole('button', { name: `Invite ${guest.name}` }).click()
    const members = owner.page.getByRole('list', { name: 'Members' })
    await members.getByRole('listitem').filter({ hasText: guest.name }).waitFor()
    const listed = roomLinks(guest.page).filter({ hasText: room })
    await listed.waitFor()
    await listed.click()
    await sendMessage(guest.page, 'thanks for having me')
    await messageItem(owner.page, 'thanks for having me').waitFor()

    // removed: the room leaves the guest's list and page at once
    await owner.page.getByRole('button', { name: `Remove ${guest.name}` }).click()
    await listed.waitFor({ state: 'detached' })
    await guest.page.waitForURL(`${suite.base}/app/`)
    expect(await messageItem(guest.page, 'thanks for having me').count()).toBe(0)
  })

  it('counts unread messages of a room not shown and those mentioning the reader, and clears them when it is opened; its owner deletes a member’s message', async () => {
    const writer = await person()
    const reader = await person()
    const room = `news-${crypto.randomUUID().slice(0, 6)}`
    await writer.page.getByLabel('New room').fill(room)
    await writer.page.getByRole('button', { name: 'Create' }).click()
    await writer.page.waitForURL(new RegExp(`/app/rooms/${room}$`))
    // the reader joins the public room (and so becomes a member), then goes back to general
    const link = roomLinks(reader.page).filter({ hasText: room })
    await link.click()
    await reader.page.waitForURL(new RegExp(`/app/rooms/${room}$`))
    await roomLinks(reader.page).filter({ hasText: 'general' }).click()
    await reader.page.waitForURL(`${suite.base}/app/`)
    for (const text of ['first', 'second', `@${reader.name}, a third one`]) {
      await sendMessage(writer.page, text)
      // a mention is marked apart: the item is found by its plain words
      await messageItem(writer.page, text.replace(/^.*, /, '')).waitFor()
    }
    const counted = `# ${room}, 3 unread, 1 mentioning you`
    await expect.poll(() => link.getAttribute('aria-label')).toBe(counted)
    await expect.poll(() => reader.page.title()).toBe('(3) Chat')
    // counts come from the server after a reload too
    await reader.page.reload()
    await connected(reader.page).waitFor()
    await expect.poll(() => link.getAttribute('aria-label')).toBe(counted)
    await link.click()
    await messageItem(reader.page, 'a third one').waitFor()
    await expect.poll(() => link.getAttribute('aria-label')).toBe(`# ${room}`)
    await expect.poll(() => reader.page.title()).toBe('Chat')

    // the room's owner moderates: Delete on a member's message; the member has no Delete on the owner's
    await sendMessage(reader.page, 'an off-topic aside')
    const aside = writer.page.getByRole('article').filter({ hasText: 'an off-topic aside' })
    await aside.getByRole('button', { name: 'Delete' }).click()
    await writer.page.getByRole('button', { name: 'Delete message' }).click()
    await reader.page.getByText('message deleted').first().waitFor()
    const ownersMessage = reader.page.getByRole('article').filter({ hasText: 'first' })
    await ownersMessage.getByRole('button', { name: 'Reply' }).waitFor()
    expect(await ownersMessage.getByRole('button', { name: 'Delete' }).count()).toBe(0)
  })
})
