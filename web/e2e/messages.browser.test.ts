import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { openSocket } from '../../server/src/test/ws-client.ts'
import { browserSuite } from './browser-suite'
import { composer, logIn as logInAs, registerAccount, sendMessage, type Account } from './chat-page'

/**
 * Stands in for the tab being hidden, and records the notifications the page shows: Chromium grants the
 * permission (the context's), and the test reads what was shown instead of a desktop looking at it.
 */
const RECORD_NOTIFICATIONS = () => {
  const shown: { title: string; body: string }[] = []
  const state = window as unknown as { notified: typeof shown; tabHidden: boolean }
  state.notified = shown
  state.tabHidden = false
  Object.defineProperty(document, 'hidden', { get: () => state.tabHidden })
  const Real = window.Notification
  class Recorded extends Real {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options)
      shown.push({ title, body: options?.body ?? '' })
    }
  }
  window.Notification = Recorded as typeof Notification
}

describe('messages in the SPA: replies, reactions, edits, deletions, mentions, jumps', () => {
  const suite = browserSuite({ WS_MESSAGES_PER_SECOND: '100' })
  const { contexts } = suite

  /** A room made over the chat protocol by `owner`, with `count` numbered messages in it. */
  async function roomWith(owner: Account, count: number): Promise<string> {
    const room = `msgs-${crypto.randomUUID().slice(0, 8)}`
    const socket = await openSocket(`${suite.base.replace('http', 'ws')}/ws`, [
      'chat.v1',
      `bearer.${owner.token}`,
    ])
    const say = (message: unknown) => socket.socket.send(JSON.stringify(message))
    say({ type: 'create_room', room })
    await socket.nextOfType('room_created')
    say({ type: 'join', room })
    await socket.nextOfType('joined')
    for (let i = 1; i <= count; i++)
      say({ type: 'send', room, clientId: `${room}-${i}`, text: `numbered ${i}` })
    if (count > 0)
      await socket.nextOfType(
        'ack',
        (ack: { clientId: string }) => ack.clientId === `${room}-${count}`,
        30_000,
      )
    socket.socket.close()
    return room
  }

  const open = async (page: Page, account: Account, room: string, query = '') => {
    await logInAs(page, suite.base, account)
    await page.goto(`${suite.base}/app/rooms/${room}${query}`)
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 10_000 })
  }
  const article = (page: Page, text: string | RegExp) => page.getByRole('article').filter({ hasText: text })

  it('two users: a mention completed and notified while hidden, a reply quoted and followed, a reaction, an edit, a deletion', async () => {
    const [alice, bob] = [await registerAccount(suite.base), await registerAccount(suite.base)]
    const room = await roomWith(alice, 0)
    const alicePage = await contexts.newPage()
    const bobContext = await contexts.newContext()
    await bobContext.addInitScript(RECORD_NOTIFICATIONS)
    const bobPage = await bobContext.newPage()
    await open(bobPage, bob, room)
    await open(alicePage, alice, room)
    // asked for by a button, never on load: the page has not asked yet; Chromium says yes when it does
    expect(await bobPage.evaluate(() => Notification.permission)).toBe('default')
    await bobContext.grantPermissions(['notifications'])
    await bobPage.getByRole('button', { name: 'Notify me of mentions' }).click()
    await bobPage.getByText('Mentions notify you while this tab is hidden.').waitFor()
    await bobPage.evaluate(() => ((window as unknown as { tabHidden: boolean }).tabHidden = true))

    // @ and the first letters of bob's name: the completion offers him (he is in the room)
    await alicePage.getByRole('listitem').filter({ hasText: bob.name }).first().waitFor()
    await composer(alicePage).fill(`look here @${bob.name.slice(0, 6)}`)
    await composer(alicePage).press('End')
    await composer(alicePage).press('Space')
    await composer(alicePage).press('Backspace')
    await alicePage.getByRole('option', { name: bob.name }).click()
    await expect.poll(() => composer(alicePage).inputValue()).toBe(`look here @${bob.name} `)
    await composer(alicePage).press('Enter')

    // the first: the answer to it quotes it later
    const mention = article(bobPage, `look here @${bob.name}`).first()
    await mention.getByText('Mentions you.').waitFor()
    await expect
      .poll(() => bobPage.evaluate(() => (window as unknown as { notified: unknown[] }).notified))
      .toEqual([
        { title: `${alice.name} (unverified) mentioned you in #${room}`, body: `look here @${bob.name} ` },
      ])

    // bob answers it: alice sees the quote, and following it highlights the message answered
    await mention.getByRole('button', { name: 'Reply' }).click()
    await bobPage.getByText(`Replying to ${alice.name}`).waitFor()
    await sendMessage(bobPage, 'an answer')
    const answer = article(alicePage, 'an answer')
    const quote = answer.getByRole('link', { name: new RegExp(`^In reply to ${alice.name}: look here`) })
    await quote.click()
    await alicePage.waitForURL(/\?message=1$/)
    await expect.poll(() => article(alicePage, 'look here').first().getAttribute('aria-current')).toBe('true')

    // bob reacts: alice sees who did
    await mention.getByRole('button', { name: 'React', exact: true }).click()
    await mention.getByRole('button', { name: 'React with 👍' }).click()
    await article(alicePage, 'look here')
      .first()
      .getByRole('button', { name: `👍 1: ${bob.name}` })
      .waitFor()
    expect(
      await mention.getByRole('button', { name: `👍 1: ${bob.name}` }).getAttribute('aria-pressed'),
    ).toBe('true')

    // alice edits her message: bob sees the new text, marked edited
    // her only message: the one with an Edit button (its text gives way to the edit field)
    const own = alicePage
      .getByRole('article')
      .filter({ has: alicePage.getByRole('button', { name: 'Edit' }) })
    await own.getByRole('button', { name: 'Edit' }).click()
    await own.getByLabel('Edit message').fill('look over here')
    await own.getByRole('button', { name: 'Save' }).click()
    await article(bobPage, 'look over here').getByText('(edited)').waitFor()

    // and deletes it, after saying yes: a tombstone for both, the text gone
    await article(alicePage, 'look over here').getByRole('button', { name: 'Delete' }).click()
    await alicePage.getByRole('button', { name: 'Delete message' }).click()
    await bobPage.getByText('message deleted').first().waitFor()
    expect(await bobPage.getByText('look over here').count()).toBe(0)
    // the answer's quote says so too, once the page is read again
    await bobPage.reload()
    await article(bobPage, 'an answer')
      .getByRole('link', { name: /message deleted/ })
      .waitFor()
  })

  it('jumps to a message by its address, far back in a long room, and comes back to the present', async () => {
    const owner = await registerAccount(suite.base)
    const room = await roomWith(owner, 180)
    const page = await contexts.newPage()
    await open(page, owner, room, '?message=20')
    await page.getByRole('article').filter({ hasText: 'numbered 20' }).first().waitFor()
    await expect
      .poll(() => page.locator('[aria-current="true"]').getByText('numbered 20', { exact: true }).count())
      .toBe(1)
    expect(await page.getByText('numbered 180', { exact: true }).count()).toBe(0)
    await page.getByRole('button', { name: 'Back to the present' }).click()
    await page.getByText('numbered 180', { exact: true }).waitFor()
    expect(page.url()).not.toContain('message=')
  })
  /** `account` on the chat protocol, in `room` (joining makes a member): to act as someone without a page */
  async function speakerIn(account: Account, room: string) {
    const socket = await openSocket(`${suite.base.replace('http', 'ws')}/ws`, [
      'chat.v1',
      `bearer.${account.token}`,
    ])
    socket.socket.send(JSON.stringify({ type: 'join', room }))
    await socket.nextOfType('joined')
    return {
      socket,
      say: (message: Record<string, unknown>) => socket.socket.send(JSON.stringify({ room, ...message })),
    }
  }

  it('the owner reads an edited message’s earlier versions in a dialog; a plain member has no such control', async () => {
    const [owner, author] = [await registerAccount(suite.base), await registerAccount(suite.base)]
    const room = await roomWith(owner, 0)
    const { socket, say } = await speakerIn(author, room)
    say({ type: 'send', clientId: 'versions', text: 'first version' })
    await socket.nextOfType('ack')
    for (const text of ['second version', 'third version']) {
      say({ type: 'edit', seq: 1, text })
      await socket.nextOfType(
        'message_updated',
        (update: { message: { text: string } }) => update.message.text === text,
      )
    }
    socket.socket.close()

    const ownerPage = await contexts.newPage()
    await open(ownerPage, owner, room)
    const history = article(ownerPage, 'third version').getByRole('button', {
      name: 'Edited: show earlier versions',
    })
    await history.click()
    const dialog = ownerPage.getByRole('dialog', { name: 'Earlier versions' })
    const versions = dialog.getByRole('list', { name: 'Earlier versions, oldest first' })
    await versions.waitFor()
    expect(await versions.getByRole('paragraph').allTextContents()).toEqual([
      'first version',
      'second version',
    ])
    expect(await versions.getByText(/^Replaced /).count()).toBe(2)
    await ownerPage.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    // focus is back where the dialog was opened from
    expect(await history.evaluate((button) => button === document.activeElement)).toBe(true)

    // closed by the browser without a `cancel` (a close watcher may skip it): both dialogs open again
    const closeQuietly = (shown: typeof dialog) =>
      shown.evaluate((element) => (element as HTMLDialogElement).close())
    await history.click()
    await versions.waitFor()
    await closeQuietly(dialog)
    await dialog.waitFor({ state: 'hidden' })
    await history.click()
    await versions.waitFor()
    await ownerPage.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    const deleteButton = article(ownerPage, 'third version').getByRole('button', { name: 'Delete' })
    const confirm = ownerPage.getByRole('dialog', { name: 'Delete this message?' })
    await deleteButton.click()
    await closeQuietly(confirm)
    await confirm.waitFor({ state: 'hidden' })
    await deleteButton.click()
    await confirm.waitFor()
    await confirm.getByRole('button', { name: 'Cancel' }).click()
    await confirm.waitFor({ state: 'hidden' })

    // the author is a plain member: the mark, no control (the server would refuse them anyway)
    const authorPage = await contexts.newPage()
    await open(authorPage, author, room)
    await article(authorPage, 'third version').getByText('(edited)').waitFor()
    expect(await authorPage.getByRole('button', { name: /earlier versions/ }).count()).toBe(0)
  })

  it('a refused edit opens its editor again on the text written; the earlier-versions dialog closes when the room changes', async () => {
    const owner = await registerAccount(suite.base)
    const [room, other] = [await roomWith(owner, 1), await roomWith(owner, 0)]
    const { socket, say } = await speakerIn(owner, room)
    say({ type: 'edit', seq: 1, text: 'numbered one' })
    await socket.nextOfType('message_updated')

    // the dialog belongs to the room it was opened in: going back to another room closes it
    const page = await contexts.newPage()
    await open(page, owner, other)
    await page.getByRole('link', { name: `# ${room}` }).click()
    await article(page, 'numbered one').getByRole('button', { name: 'Edited: show earlier versions' }).click()
    const dialog = page.getByRole('dialog', { name: 'Earlier versions' })
    await dialog.getByRole('list', { name: 'Earlier versions, oldest first' }).waitFor()
    await page.goBack()
    await page.waitForURL(`**/rooms/${other}`)
    await dialog.waitFor({ state: 'hidden' })
    await page.goForward()
    await page.waitForURL(`**/rooms/${room}`)

    // the room is archived (over another connection) while the owner writes an edit: refused, not saved
    await article(page, 'numbered one').getByRole('button', { name: 'Edit', exact: true }).click()
    const editor = page.getByLabel('Edit message')
    await editor.fill('kept, though refused')
    say({ type: 'update_room', archived: true })
    await page.getByText('This room is archived: it can be read, not written to.').waitFor()
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByText('This room is archived: its messages can no longer change').waitFor()
    await editor.waitFor()
    expect(await editor.inputValue()).toBe('kept, though refused')
    // nothing changed meanwhile: given up, the message is as it was
    await page.getByRole('button', { name: 'Cancel' }).click()
    await article(page, 'numbered one').waitFor()
    socket.socket.close()
  })

  it('completes @name to a member who has never written in the room and is not online', async () => {
    const [owner, quiet] = [await registerAccount(suite.base), await registerAccount(suite.base)]
    const room = await roomWith(owner, 1)
    const { socket } = await speakerIn(quiet, room)
    socket.socket.close()
    const page = await contexts.newPage()
    await open(page, owner, room)
    await page.getByText('numbered 1', { exact: true }).waitFor()
    await expect.poll(() => page.getByRole('list', { name: 'Online' }).getByText(quiet.name).count()).toBe(0)

    await composer(page).fill(`hi @${quiet.name.slice(0, 7)}`)
    await composer(page).press('End')
    await composer(page).press('Space')
    await composer(page).press('Backspace')
    await page.getByRole('option', { name: quiet.name }).click()
    await expect.poll(() => composer(page).inputValue()).toBe(`hi @${quiet.name} `)
  })
})
