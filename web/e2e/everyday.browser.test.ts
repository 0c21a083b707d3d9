import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './browser'
import {
  composer,
  connected,
  contextsOf,
  logIn as logInAs,
  messageItem,
  messagesOf,
  registerAccount,
  sendMessage,
} from './chat-page'
import { fakeChatServer, pastMessages } from './fake-chat-server'
import { floodLiveMessages, watchLiveMessages } from './message-flood'
import { startServer, type TestServer } from './test-server'

const via = process.env.E2E_STACK === '1' ? ', through nginx' : ''
/** the server's rate for these tests: low, so that 40 quick messages run into it within seconds */
const MESSAGES_PER_SECOND = 5

describe(`the SPA as people use it, in Chromium${via}`, () => {
  let server: TestServer
  let browser: Browser
  let base: string

  beforeAll(async () => {
    server = await startServer({ WS_MESSAGES_PER_SECOND: String(MESSAGES_PER_SECOND) })
    base = server.url
    browser = await launchChromium(server.trustedSpki)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  const contexts = contextsOf(() => browser)
  afterEach(() => contexts.closeAll())
  const { newPage } = contexts
  const register = () => registerAccount(base)
  const logIn = (page: Page, account: { email: string; password: string }) => logInAs(page, base, account)
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

  it('sends a user whose session was lost while offline to the login page, and sends what they wrote after', async () => {
    const [alice, bob] = [await register(), await register()]
    const [alicePage, bobPage] = [await newPage(), await newPage()]
    await logIn(alicePage, alice)
    await logIn(bobPage, bob)
    // the server restarts and forgets every session, as the embedded default does
    const restarted = server.restart(1_500)
    await alicePage.getByRole('status').filter({ hasText: 'reconnecting' }).waitFor({ timeout: 5_000 })
    await server.forgetSessions()
    await sendMessage(alicePage, 'written while the session was lost')
    await messagesOf(alicePage).filter({ hasText: 'written while the session was lost' }).waitFor()
    await restarted
    const back = Date.now()
    await alicePage.waitForURL(`${base}/app/login`, { timeout: 10_000 })
    expect(Date.now() - back).toBeLessThan(8_000)
    await alicePage.getByText('Your session has ended. Please log in again.').waitFor()

    await logIn(bobPage, bob)
    await logIn(alicePage, alice)
    for (const page of [alicePage, bobPage]) {
      await messagesOf(page)
        .filter({ hasText: 'written while the session was lost' })
        .waitFor({ timeout: 10_000 })
    }
    await expect.poll(() => alicePage.getByText('sending…').count()).toBe(0)
    expect(await alicePage.evaluate(() => sessionStorage.length)).toBe(0)
  }, 60_000)

  it('sends 40 messages typed faster than the rate limit, every one, in order, and says none was lost', async () => {
    const page = await newPage()
    await logIn(page, await register())
    const refusals: string[] = []
    page.on('websocket', (socket) =>
      socket.on('framereceived', ({ payload }) => {
        if (String(payload).includes('"rate_limited"')) refusals.push(String(payload))
      }),
    )
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
    const typing = bobPage.getByText(`${alice.email} typing…`)
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
    await page.waitForURL(`${base}/app/rooms/${room}`)
    await page.getByRole('heading', { name: `# ${room}` }).waitFor()
    expect(await composer(page).inputValue()).toBe('')
    await page.getByRole('link', { name: '# general' }).click()
    await page.waitForURL(`${base}/app/`)
    expect(await composer(page).inputValue()).toBe('a draft for general')

    const joinsBefore = joins.length
    await page.getByRole('link', { name: '# general' }).click()
    await page.getByRole('link', { name: `# ${room}` }).click()
    await page.getByRole('link', { name: '# general' }).click()
    await page.getByRole('heading', { name: '# general' }).waitFor()
    // general was joined, the new room once: going back and forth, or clicking the current room, joins nothing
    expect(joins.length - joinsBefore).toBe(0)

    await page.goto(`${base}/app/rooms/${room}`)
    await connected(page).waitFor()
    await page.getByRole('heading', { name: `# ${room}` }).waitFor()
  })

  it('keeps up with 200 live messages at 20 a second on top of 5,000: no long task over 100 ms, each shown within 500 ms', async () => {
    const account = await register()
    const user = { id: 'me', email: account.email }
    const other = { id: 'other', email: 'other@example.com' }
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
})
