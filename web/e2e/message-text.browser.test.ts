import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { seriousViolations } from './browser'
import { browserSuite } from './browser-suite'
import { logIn as logInAs, messagesOf, registerAccount, sendMessage } from './chat-page'

const via = process.env.E2E_STACK === '1' ? ', through nginx' : ''

describe(`message text: links, Markdown and mentions, in Chromium${via}`, () => {
  const suite = browserSuite()
  // The page's Content-Security-Policy would stop inline script on its own: bypassed here, so that what is
  // tested is the rendering itself (the policy is the second line of defence, not the first).
  const newPage = () => suite.contexts.newPage({ bypassCSP: true })
  const logIn = (page: Page, account: { email: string; password: string }) =>
    logInAs(page, suite.base, account)
  /** set by any script of a message that ran */
  const ranScript = (page: Page) => page.evaluate(() => (window as { ranScript?: number }).ranScript)

  it('shows links, bold, code, quotes and mentions, and markup or script as text that runs nothing', async () => {
    const [alice, bob] = [await registerAccount(suite.base), await registerAccount(suite.base)]
    const [alicePage, bobPage] = [await newPage(), await newPage()]
    await logIn(alicePage, alice)
    await logIn(bobPage, bob)
    const script = '<script>window.ranScript = 1</script><img src=x onerror="window.ranScript = 2">'
    const schemes =
      '[click](javascript:window.ranScript=3) javascript:window.ranScript=4 <a href="javascript:window.ranScript=5">a</a>'
    for (const text of [
      'read **this** and `npm test` at https://example.com/docs?x=1 or www.example.org',
      script,
      schemes,
      '> quoted **line**\n```\n<b>code</b> *as written*\n```',
      `@${bob.name} look`,
    ])
      await sendMessage(alicePage, text)
    await messagesOf(bobPage).filter({ hasText: 'look' }).waitFor()
    const list = bobPage.getByRole('list', { name: 'Messages' })

    const docs = list.getByRole('link', { name: 'https://example.com/docs?x=1' })
    expect(await docs.getAttribute('href')).toBe('https://example.com/docs?x=1')
    expect(await docs.getAttribute('rel')).toBe('noopener noreferrer')
    expect(await docs.getAttribute('target')).toBe('_blank')
    expect(await list.getByRole('link', { name: 'www.example.org' }).getAttribute('href')).toBe(
      'https://www.example.org/',
    )
    // those two are all: no script URL became a link
    expect(await list.getByRole('link').count()).toBe(2)
    expect(
      await list
        .getByRole('strong')
        .filter({ hasText: /^this$/ })
        .count(),
    ).toBe(1)
    expect(
      await list
        .getByRole('code')
        .filter({ hasText: /^npm test$/ })
        .count(),
    ).toBe(1)
    const quote = list.getByRole('blockquote')
    expect(await quote.textContent()).toBe('quoted line')
    expect(await quote.getByRole('strong').textContent()).toBe('line')
    await list.getByText('<b>code</b> *as written*', { exact: true }).waitFor()

    // markup and script are shown as the characters written, and none of it ran
    await messagesOf(bobPage).filter({ hasText: script }).waitFor()
    await messagesOf(bobPage).filter({ hasText: schemes }).waitFor()
    expect(await list.getByRole('img').count()).toBe(0)
    expect(await ranScript(bobPage)).toBeUndefined()
    expect(await ranScript(alicePage)).toBeUndefined()

    // the mention of bob is marked for bob, in words too; alice is not mentioned
    await messagesOf(bobPage)
      .filter({ hasText: `@${bob.name} (mentions you) look` })
      .waitFor()
    await messagesOf(alicePage)
      .filter({ hasText: `@${bob.name} look` })
      .waitFor()
    expect(await alicePage.getByText('(mentions you)').count()).toBe(0)
    expect(await seriousViolations(bobPage)).toEqual([])
  })

  it('opens a link in a new tab that cannot reach back to the chat and is not told where it came from', async () => {
    const [alice, bob] = [await registerAccount(suite.base), await registerAccount(suite.base)]
    const [alicePage, bobPage] = [await newPage(), await newPage()]
    await logIn(alicePage, alice)
    await logIn(bobPage, bob)
    await sendMessage(alicePage, 'the page: https://example.com/shared')
    // the network is closed: the linked site is answered here, noting the Referer it was sent
    const referers: (string | undefined)[] = []
    await bobPage.context().route('https://example.com/**', async (route) => {
      referers.push(
        await route
          .request()
          .headerValue('referer')
          .then((value) => value ?? undefined),
      )
      await route.fulfill({ contentType: 'text/html', body: '<title>shared</title>' })
    })
    const link = bobPage
      .getByRole('list', { name: 'Messages' })
      .getByRole('link', { name: 'https://example.com/shared' })
    const [tab] = await Promise.all([bobPage.context().waitForEvent('page'), link.click()])
    await tab.waitForLoadState()
    expect(tab.url()).toBe('https://example.com/shared')
    expect(
      await tab.evaluate(() => ({ opener: window.opener as unknown, referrer: document.referrer })),
    ).toEqual({
      opener: null,
      referrer: '',
    })
    expect(referers).toEqual([undefined])
    // the chat stays where it was
    expect(bobPage.url()).toBe(`${suite.base}/app/`)
  })
})
