import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { openSocket } from '../../server/src/test/ws-client.ts'
import { descriptionOf } from './browser'
import { browserSuite } from './browser-suite'
import { logIn as logInAs, messageItem, messagesOf, registerAccount, sendMessage } from './chat-page'

const artifacts = new URL('../../test-artifacts/', import.meta.url)
mkdirSync(artifacts, { recursive: true })
const via = process.env.E2E_STACK === '1' ? 'nginx-' : ''
const screenshot = (page: Page, name: string) =>
  page.screenshot({ path: new URL(`${via}${name}.png`, artifacts).pathname })

describe(`the SPA in Chromium${via ? ', through nginx' : ''}`, () => {
  // a sender fast enough to fill a room in the test's setup; no test here is about the rate limit
  const suite = browserSuite({ WS_SESSION_CHECK_INTERVAL: '0.5', WS_MESSAGES_PER_SECOND: '100' })
  const { newContext, newPage } = suite.contexts
  const register = () => registerAccount(suite.base)
  const logIn = (page: Page, account: { email: string; password: string }) =>
    logInAs(page, suite.base, account)
  const messages = messagesOf

  it('says "Wrong email or password" for a wrong password, and keeps the form', async () => {
    const page = await newPage()
    const account = await register()
    await page.goto(`${suite.base}/app/login`)
    await page.getByLabel('Email').waitFor()
    await screenshot(page, 'login')
    await page.getByLabel('Email').fill(account.email)
    await page.getByLabel('Password').fill('not-the-password')
    await page.getByRole('button', { name: 'Log in' }).click()
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Wrong email or password')
    expect(page.url()).toBe(`${suite.base}/app/login`)
    await screenshot(page, 'login-error')
  })

  it('shows field errors under their fields, checked before sending and as the server sends them', async () => {
    const page = await newPage()
    await page.goto(`${suite.base}/app/login`)
    await page.getByLabel('Email').fill('not-an-email')
    await page.getByLabel('Password').fill('abc')
    await page.getByRole('button', { name: 'Log in' }).click()
    // each error is the description of its field, as a screen reader announces it
    await expect(descriptionOf(page, 'Email')).resolves.toBe('Not a valid email address.')
    await expect(descriptionOf(page, 'Password')).resolves.toBe('Shorter than minimum length 4.')
    // the server's own 400 for the same input, rendered the same way
    await page.route('**/api/v1.0/user/auth', async (route) => {
      const response = await route.fetch({
        postData: JSON.stringify({ email: 'not-an-email', password: 'abc' }),
      })
      expect(response.status()).toBe(400)
      await route.fulfill({ response })
    })
    await page.getByLabel('Email').fill('valid@example.com')
    await page.getByLabel('Password').fill('long-enough')
    await page.getByRole('button', { name: 'Log in' }).click()
    await expect.poll(() => descriptionOf(page, 'Email')).toBe('Not a valid email address.')
  })

  it('logs in, keeps the session over a reload, and lets two users chat', async () => {
    const [alice, bob] = [await register(), await register()]
    const [alicePage, bobPage] = [await newPage(), await newPage()]
    await logIn(alicePage, alice)
    await logIn(bobPage, bob)
    await sendMessage(alicePage, 'Hello Bob')
    await expect(messages(bobPage).filter({ hasText: 'Hello Bob' }).waitFor()).resolves.toBeUndefined()
    await sendMessage(bobPage, 'Hi Alice')
    await messages(alicePage).filter({ hasText: 'Hi Alice' }).waitFor()
    await bobPage.getByRole('list', { name: 'Online' }).getByText(alice.name).waitFor()
    await screenshot(alicePage, 'chat')

    await alicePage.reload()
    await alicePage.getByRole('status').filter({ hasText: 'Connected' }).waitFor()
    expect(alicePage.url()).toBe(`${suite.base}/app/`)
    await messages(alicePage).filter({ hasText: 'Hi Alice' }).waitFor()
    // the session cookie is HttpOnly: page script cannot read it
    expect(await alicePage.evaluate(() => document.cookie)).toBe('')
  })

  it('loads older messages by itself at the top of the list, keeping the reader’s place, until there are none', async () => {
    const { token, ...account } = await register()
    // 70 messages, more than the 50 a join shows, sent over the chat protocol with the account's token
    const room = `older-${crypto.randomUUID().slice(0, 8)}`
    const socket = await openSocket(`${suite.base.replace('http', 'ws')}/ws`, ['chat.v1', `bearer.${token}`])
    const say = (message: unknown) => socket.socket.send(JSON.stringify(message))
    say({ type: 'create_room', room })
    await socket.nextOfType('room_created')
    say({ type: 'join', room })
    await socket.nextOfType('joined')
    for (let i = 1; i <= 70; i++) say({ type: 'send', room, clientId: `older-${i}`, text: `numbered ${i}` })
    await socket.nextOfType('ack', (ack: { clientId: string }) => ack.clientId === 'older-70', 15_000)
    socket.socket.close()

    const page = await newPage()
    await logIn(page, account)
    await page.getByRole('link', { name: `# ${room}` }).click()
    await messages(page)
      .filter({ hasText: /^numbered 70$/ })
      .waitFor()
    // the list is virtualised: each item says its place among all the messages held (aria-posinset/setsize)
    const itemOf = (text: RegExp) => messageItem(page, text)
    const lastItem = itemOf(/^numbered 70$/)
    expect(await lastItem.getAttribute('aria-setsize')).toBe('50')
    expect(await lastItem.getAttribute('aria-posinset')).toBe('50')
    await page.getByRole('region', { name: 'Message history' }).evaluate((list) => list.scrollTo({ top: 0 }))
    await messages(page)
      .filter({ hasText: /^numbered 21$/ })
      .waitFor()
    await screenshot(page, 'load-older')
    // at the top the older ones come by themselves; the button is there for keyboard users
    await page.getByRole('button', { name: 'Load older messages' }).waitFor({ state: 'detached' })
    // the reader stays where they were: the first message they saw before is still in view, now 21st of 70
    const seen = itemOf(/^numbered 21$/)
    await expect.poll(() => seen.getAttribute('aria-setsize')).toBe('70')
    expect(await seen.getAttribute('aria-posinset')).toBe('21')
    await page.getByRole('region', { name: 'Message history' }).evaluate((list) => list.scrollTo({ top: 0 }))
    const first = messages(page).filter({ hasText: /^numbered 1$/ })
    await first.waitFor()
    expect(await itemOf(/^numbered 1$/).getAttribute('aria-posinset')).toBe('1')
  })

  it('shows a message that looks like HTML as text, and runs nothing', async () => {
    const page = await newPage()
    await logIn(page, await register())
    const attack = '<img src=x onerror=alert(1)>'
    await sendMessage(page, attack)
    await messages(page).filter({ hasText: attack }).waitFor()
    expect(await page.getByRole('list', { name: 'Messages' }).getByRole('img').count()).toBe(0)
  })

  it('sends every tab of a user to the login page within 2 s when one tab logs out', async () => {
    const account = await register()
    const context = await newContext()
    const [first, second] = [await context.newPage(), await context.newPage()]
    await logIn(first, account)
    await second.goto(`${suite.base}/app/`)
    await second.getByRole('status').filter({ hasText: 'Connected' }).waitFor()
    const started = Date.now()
    await first.getByRole('button', { name: 'Log out' }).click()
    await second.waitForURL(`${suite.base}/app/login`, { timeout: 2_000 })
    expect(Date.now() - started).toBeLessThan(2_000)
    await second
      .getByText(/logged out|session/i)
      .first()
      .waitFor()
  })

  it('reconnects by itself after the server restarts, losing and doubling nothing', async () => {
    const [alice, bob] = [await register(), await register()]
    const [alicePage, bobPage] = [await newPage(), await newPage()]
    await logIn(alicePage, alice)
    await logIn(bobPage, bob)
    await sendMessage(alicePage, 'before restart')
    await messages(bobPage).filter({ hasText: 'before restart' }).waitFor()

    const restarted = suite.server.restart(1_500)
    await alicePage.getByRole('status').filter({ hasText: 'reconnecting' }).waitFor({ timeout: 5_000 })
    await sendMessage(alicePage, 'while the server was down')
    await restarted
    await alicePage.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 })
    await bobPage.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 })
    await sendMessage(bobPage, 'after restart')
    for (const page of [alicePage, bobPage]) {
      await messages(page).filter({ hasText: 'after restart' }).waitFor({ timeout: 10_000 })
      await messages(page).filter({ hasText: 'while the server was down' }).waitFor({ timeout: 10_000 })
      const texts = await messages(page).allTextContents()
      const mine = texts.filter((text) =>
        ['before restart', 'while the server was down', 'after restart'].includes(text),
      )
      expect(mine).toEqual(['before restart', 'while the server was down', 'after restart'])
    }
  }, 120_000)
})
