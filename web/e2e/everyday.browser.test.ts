import type { ChatMessage } from '@chat/contract'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { descriptionOf, seriousViolations } from './browser'
import { browserSuite } from './browser-suite'
import {
  composer,
  connected,
  logIn as logInAs,
  messageItem,
  messagesOf,
  registerAccount,
  sendMessage,
} from './chat-page'
import { fakeChatServer, pastMessages } from './fake-chat-server'
import { floodLiveMessages, watchLiveMessages } from './message-flood'

const via = process.env.E2E_STACK === '1' ? ', through nginx' : ''
/** the server's rate for these tests: low, so that 40 quick messages run into it within seconds */
const MESSAGES_PER_SECOND = 5
const DAY_MS = 86_400_000
/** noon UTC, `daysAgo` days before today (the pages of these tests run in UTC) */
const noonUtc = (daysAgo: number, minute = 0) => {
  const today = new Date()
  return new Date(
    Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 12, minute) - daysAgo * DAY_MS,
  )
}

describe(`the SPA as people use it, in Chromium${via}`, () => {
  const suite = browserSuite({ WS_MESSAGES_PER_SECOND: String(MESSAGES_PER_SECOND) })
  const { newPage } = suite.contexts
  const register = () => registerAccount(suite.base)
  const logIn = (page: Page, account: { email: string; password: string }) =>
    logInAs(page, suite.base, account)
  /** the chat frames of a given type the page sends */
  const framesSent = (page: Page, type: string) => {
    const frames: Record<string, unknown>[] = []
    page.on('websocket', (socket) =>
      socket.on('framesent', ({ payload }) => {
        const frame = JSON.parse(String(payload)) as Record<string, unknown>
        if (frame.type === type) frames.push(frame)
      }),
    )
    return frames
  }

  it('sends 40 messages typed faster than the rate limit, every one, in order, and says none was lost', async () => {
    const page = await newPage()
    await logIn(page, await register())
    const refusals: string[] = []
    page.on('websocket', (socket) =>
      socket.on('framereceived', ({ payload }) => {
        if (String(payload).includes('"rate_limited"')) refusals.push(String(payload))
      }),
    )
    // a room of its own: other tests of this server write in general
    await page.getByLabel('New room').fill(`quick-${crypto.randomUUID().slice(0, 8)}`)
    await page.getByRole('button', { name: 'Create' }).click()
    await page.waitForURL(/\/rooms\/quick-/)
    const texts = Array.from({ length: 40 }, (_, i) => `quick ${i + 1}`)
    for (const text of texts) await sendMessage(page, text)
    // paced within the server's rate (told in welcome): 40 at 5 a second take about 10 s
    await expect.poll(() => page.getByText('sending…').count(), { timeout: 20_000 }).toBe(0)
    expect(refusals).toEqual([])
    await page.reload()
    await connected(page).waitFor()
    const last = messageItem(page, /^quick 40$/)
    await last.waitFor()
    expect(await last.getAttribute('aria-setsize')).toBe('40')
    const firstShown = await messagesOf(page).first().textContent()
    expect(texts).toContain(firstShown)
  }, 60_000)

  it('stops showing "typing…" when the typer closes the tab', async () => {
    const [alice, bob] = [await register(), await register()]
    const [alicePage, bobPage] = [await newPage(), await newPage()]
    await logIn(alicePage, alice)
    await logIn(bobPage, bob)
    await composer(alicePage).pressSequentially('half a sent')
    const typing = bobPage.getByText(`${alice.name} typing…`)
    await typing.waitFor()
    await alicePage.close()
    // the server says typing: false when the typer's connection closes; the page would forget it in 6 s anyway
    await typing.waitFor({ state: 'detached', timeout: 2_000 })
  })

  it('opens a room it creates, keeps the room in the URL and a draft per room, and joins each room once', async () => {
    const page = await newPage()
    const joins = framesSent(page, 'join')
    await logIn(page, await register())
    await composer(page).fill('a draft for general')
    const room = `made-${crypto.randomUUID().slice(0, 8)}`
    await page.getByLabel('New room').fill(room)
    await page.getByRole('button', { name: 'Create' }).click()
    await page.waitForURL(`${suite.base}/app/rooms/${room}`)
    await page.getByRole('heading', { name: `# ${room}` }).waitFor()
    expect(await composer(page).inputValue()).toBe('')
    await page.getByRole('link', { name: '# general' }).click()
    await page.waitForURL(`${suite.base}/app/`)
    expect(await composer(page).inputValue()).toBe('a draft for general')

    const joinsBefore = joins.length
    await page.getByRole('link', { name: '# general' }).click()
    await page.getByRole('link', { name: `# ${room}` }).click()
    await page.getByRole('link', { name: '# general' }).click()
    await page.getByRole('heading', { name: '# general' }).waitFor()
    // general was joined, the new room once: going back and forth, or clicking the current room, joins nothing
    expect(joins.length - joinsBefore).toBe(0)

    await page.goto(`${suite.base}/app/rooms/${room}`)
    await connected(page).waitFor()
    await page.getByRole('heading', { name: `# ${room}` }).waitFor()
  })

  it('keeps up with 200 live messages at 20 a second on top of 5,000: no long task over 100 ms, each shown within 500 ms', async () => {
    const account = await register()
    const user = { id: 'me', name: account.name, verified: true }
    const other = { id: 'other', name: 'Other person', verified: false }
    const page = await newPage()
    await watchLiveMessages(page)
    const history = pastMessages(5_000, other)
    const chat = await fakeChatServer(page, { user, history })
    await logIn(page, account)
    await messageItem(page, /^history 5000$/).waitFor({ timeout: 20_000 })
    const { longTasks, latencies } = await floodLiveMessages(page, chat, {
      count: 200,
      perSecond: 20,
      author: other,
      firstSeq: 5_001,
    })
    const worst = Math.max(...latencies)
    console.log(
      `200 live on 5,000: worst latency ${worst.toFixed(0)} ms; long tasks ${longTasks.map((ms) => ms.toFixed(0)).join(', ') || 'none'} (ms)`,
    )
    expect(longTasks.filter((duration) => duration > 100)).toEqual([])
    expect(worst).toBeLessThan(500)
    expect(await messageItem(page, /^live 200$/).getAttribute('aria-setsize')).toBe('5200')
    expect(await messageItem(page, /^live 200$/).isVisible()).toBe(true)
  }, 90_000)

  it('words the forms for people: what is missing, minutes to wait, and sentences', async () => {
    const page = await newPage()
    await page.goto(`${suite.base}/app/login`)
    await page.getByRole('button', { name: 'Log in' }).click()
    expect(await descriptionOf(page, 'Email')).toBe('Enter your email address.')
    expect(await descriptionOf(page, 'Password')).toBe('Enter your password.')
    await page.route('**/api/v1.0/user/auth', (route) =>
      route.fulfill({
        status: 429,
        headers: { 'retry-after': '893', 'content-type': 'application/json' },
        body: JSON.stringify({ valid: false, data: 'Too many attempts' }),
      }),
    )
    await page.getByLabel('Email').fill('someone@example.com')
    await page.getByLabel('Password').fill('a-password')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page
      .getByRole('alert')
      .filter({ hasText: 'Too many failed attempts. Try again in 15 minutes.' })
      .waitFor()

    // a session ended by the server ("session ended") is told as a sentence
    const account = await register()
    const chatPage = await newPage()
    await logIn(chatPage, account)
    await fetch(`${suite.base}/api/v1.0/user/logout-all`, {
      method: 'POST',
      headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/json' },
      body: '{}',
    })
    await chatPage.getByText('Session ended. Please log in again.').waitFor({ timeout: 5_000 })
  })

  it('counts characters near the 4,000 limit and says when a paste was cut', async () => {
    const page = await newPage()
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: suite.base })
    await logIn(page, await register())
    await composer(page).fill('x'.repeat(3_990))
    expect(await descriptionOf(page, 'Message')).toBe('10 characters left')
    await composer(page).fill('')
    await page.evaluate((text) => navigator.clipboard.writeText(text), 'y'.repeat(4_100))
    await composer(page).focus()
    await page.keyboard.press('Control+V')
    await expect
      .poll(() =>
        composer(page)
          .inputValue()
          .then((text) => text.length),
      )
      .toBe(4_000)
    expect(await descriptionOf(page, 'Message')).toBe(
      'Cut to 4,000 characters, the most one message can hold',
    )
  })

  it('shows a taken room name under its field, lets notices be dismissed, and drops a stale "You logged out."', async () => {
    const account = await register()
    const page = await newPage()
    await logIn(page, account)
    await page.getByLabel('New room').fill('general')
    await page.getByRole('button', { name: 'Create' }).click()
    await expect.poll(() => descriptionOf(page, 'New room')).toBe('A room named general exists already.')

    await page.goto(`${suite.base}/app/rooms/no-such-room`)
    const notice = page.getByRole('alert').filter({ hasText: 'There is no room named no-such-room' })
    await notice.waitFor()
    // a mistyped address leads to the default room, saying why
    await page.waitForURL(`${suite.base}/app/`)
    await page.getByRole('button', { name: /^Dismiss: There is no room named no-such-room/ }).click()
    await notice.waitFor({ state: 'detached' })

    await page.getByRole('button', { name: 'Log out' }).click()
    await page.getByText('You logged out.').waitFor()
    await page.getByLabel('Email').fill(account.email)
    await page.getByLabel('Password').fill('not-the-password')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor()
    expect(await page.getByText('You logged out.').count()).toBe(0)
  })

  it('reads like a chat: day separators, grouped authors, full dates on hover and focus, a new-messages line', async () => {
    const account = await register()
    const me = { id: 'me', name: account.name, verified: true }
    const other = { id: 'other', name: 'Other person', verified: false }
    const message = (seq: number, author: typeof me, at: Date): ChatMessage => ({
      room: 'general',
      seq,
      id: `m${seq}`,
      author,
      clientId: `m${seq}`,
      text: `message ${seq}`,
      at: at.toISOString(),
    })
    const history = [
      message(1, other, noonUtc(3, 0)),
      message(2, other, noonUtc(3, 1)),
      message(3, other, noonUtc(3, 2)),
      message(4, me, noonUtc(1, 0)),
      message(5, other, new Date(Date.now() - 60_000)),
      // enough of today's to scroll
      ...Array.from({ length: 30 }, (_, i) => message(6 + i, me, new Date(Date.now() - 50_000 + i * 1_000))),
    ]
    const page = await newPage({ locale: 'en-US', timezoneId: 'UTC' })
    const chat = await fakeChatServer(page, { user: me, history })
    await logIn(page, account)
    await messagesOf(page).filter({ hasText: 'message 35' }).waitFor()
    await page.getByRole('region', { name: 'Message history' }).evaluate((list) => list.scrollTo({ top: 0 }))
    const separator = (label: string) =>
      page.getByRole('listitem').filter({ hasText: new RegExp(`^${label}$`) })
    const threeDaysAgo = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' }).format(
      noonUtc(3),
    )
    for (const label of [threeDaysAgo, 'Yesterday', 'Today']) await separator(label).waitFor()
    // three in a row from one author: the name is shown once
    const shownNames = await page
      .getByRole('list', { name: 'Messages' })
      .getByText(`${other.name} (unverified)`, { exact: true })
      .evaluateAll((names) => names.filter((name) => name.getBoundingClientRect().width > 2).length)
    expect(shownNames).toBe(2) // the group of three, and today's
    const full = new Intl.DateTimeFormat('en-US', {
      dateStyle: 'full',
      timeStyle: 'medium',
      timeZone: 'UTC',
    }).format(noonUtc(3, 1))
    const time = page.getByTitle(full)
    await time.focus()
    expect(await time.evaluate((element) => element === document.activeElement)).toBe(true)

    // scrolled up, a new message: a line above it and a way back down
    chat.push(message(36, other, new Date()))
    await page.getByRole('button', { name: 'Jump to latest messages' }).click()
    await page.getByText('New messages', { exact: true }).waitFor()
    await messagesOf(page).filter({ hasText: 'message 36' }).waitFor()
    await expect.poll(() => messagesOf(page).filter({ hasText: 'message 36' }).isVisible()).toBe(true)
    await page.getByRole('button', { name: 'Jump to latest messages' }).waitFor({ state: 'detached' })
  })

  it('gives the messages the screen of a phone, with rooms and people in a drawer behind a labelled button', async () => {
    const page = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
    await logIn(page, await register())
    const drawerButton = page.getByRole('button', { name: 'Rooms and people' })
    expect(await drawerButton.getAttribute('aria-expanded')).toBe('false')
    expect(await page.getByRole('list', { name: 'Online' }).isVisible()).toBe(false)
    const history = await page.getByRole('region', { name: 'Message history' }).boundingBox()
    expect(history!.height).toBeGreaterThan(844 * 0.6)
    await drawerButton.click()
    expect(await drawerButton.getAttribute('aria-expanded')).toBe('true')
    await page.getByRole('list', { name: 'Online' }).waitFor()
    expect(await page.getByRole('list', { name: 'Online' }).isVisible()).toBe(true)
    expect(await seriousViolations(page)).toEqual([])
    await page.getByRole('link', { name: '# general' }).click()
    await page.getByRole('list', { name: 'Online' }).waitFor({ state: 'hidden' })
  })

  it('has no serious accessibility violations, announces only new live messages, and puts focus where writing starts', async () => {
    const page = await newPage()
    await page.goto(`${suite.base}/app/login`)
    await page.getByLabel('Email').waitFor()
    expect(await seriousViolations(page)).toEqual([])
    for (const path of ['register', 'forgot-password']) {
      await page.goto(`${suite.base}/app/${path}`)
      await page.getByLabel('Email').waitFor()
      expect(await seriousViolations(page)).toEqual([])
    }
    // opened without the mailed link's token: the page says what it needs
    await page.goto(`${suite.base}/app/reset-password`)
    await page.getByText('This page needs the link from the mail.').waitFor()
    expect(await seriousViolations(page)).toEqual([])

    const [alice, bob] = [await register(), await register()]
    const bobPage = await newPage()
    await logIn(bobPage, bob)
    await sendMessage(bobPage, 'history, not news')
    await messagesOf(bobPage).filter({ hasText: 'history, not news' }).waitFor()
    await logIn(page, alice)
    // after login the cursor is in the composer
    expect(await composer(page).evaluate((field) => field === document.activeElement)).toBe(true)
    await messagesOf(page).filter({ hasText: 'history, not news' }).waitFor()
    const latest = page.getByRole('status', { name: 'Latest message' })
    expect(await latest.textContent()).toBe('')
    expect(await seriousViolations(page)).toEqual([])
    await sendMessage(bobPage, 'news')
    await expect.poll(() => latest.textContent()).toBe(`${bob.name}: news`)

    // before everything else on the page, a link straight to the composer
    await page.getByRole('heading', { name: 'Chat', exact: true }).click()
    await page.keyboard.press('Shift+Tab')
    const skip = page.getByRole('link', { name: 'Skip to message composer' })
    expect(await skip.evaluate((link) => link === document.activeElement)).toBe(true)
    await page.keyboard.press('Enter')
    expect(await composer(page).evaluate((field) => field === document.activeElement)).toBe(true)
  })
})
