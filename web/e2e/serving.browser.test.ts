import type { Page, Response } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { browserSuite } from './browser-suite'
import { logIn as logInAs, messagesOf, registerAccount, sendMessage } from './chat-page'

const via = process.env.E2E_STACK === '1' ? ', through nginx' : ''

// What the proxy carries, beside what chat, accounts and register cover: the SPA's files with their
// headers, and a server that goes away and comes back. The nginx pass of `npm test` runs this file.
describe(`the SPA as served, in Chromium${via}`, () => {
  const suite = browserSuite()
  const { newPage } = suite.contexts
  const register = () => registerAccount(suite.base)
  const logIn = (page: Page, account: { email: string; password: string }) =>
    logInAs(page, suite.base, account)

  it('sends a user whose session was lost while offline to the login page, and sends what they wrote after', async () => {
    const [alice, bob] = [await register(), await register()]
    const [alicePage, bobPage] = [await newPage(), await newPage()]
    await logIn(alicePage, alice)
    await logIn(bobPage, bob)
    // while the server is away, the session ends (expired, revoked, or a store that forgot it on restart)
    const restarted = suite.server.restart(1_500)
    await alicePage.getByRole('status').filter({ hasText: 'reconnecting' }).waitFor({ timeout: 5_000 })
    await suite.server.forgetSessions()
    await sendMessage(alicePage, 'written while the session was lost')
    await messagesOf(alicePage).filter({ hasText: 'written while the session was lost' }).waitFor()
    await restarted
    const back = Date.now()
    // the next reconnect (backoff: at most 5 s) is refused, GET /me says 401: the login page, at once
    await alicePage.waitForURL(`${suite.base}/app/login`, { timeout: 12_000 })
    expect(Date.now() - back).toBeLessThan(10_000)
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

  it("loads the login page with precompressed scripts, none of the chat's, with the headers nginx sets and a favicon", async () => {
    const page = await newPage()
    const scripts: Response[] = []
    page.on('response', (response) => {
      if (response.url().endsWith('.js')) scripts.push(response)
    })
    const answer = await page.goto(`${suite.base}/app/login`)
    await page.getByLabel('Email').waitFor()
    expect(answer?.headers()['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(answer?.headers()['cache-control']).toBe('no-cache')
    expect(scripts.length).toBeGreaterThan(0)
    for (const script of scripts) {
      const body = await script.text()
      // the chat's protocol module (and the schema library with it) is the chat page's, not the login's
      expect(body).not.toContain('chat.v1')
      if (body.length > 1024) expect(['br', 'gzip']).toContain(script.headers()['content-encoding'])
      if (/\/assets\/.+-[\w-]{8}\.js$/.test(script.url()))
        expect(script.headers()['cache-control']).toBe('public, max-age=31536000, immutable')
    }
    const icon = await page.evaluate(() => document.querySelector('link[rel="icon"]')?.getAttribute('href'))
    expect((await page.request.get(new URL(icon!, suite.base).href)).status()).toBe(200)
  })
})
