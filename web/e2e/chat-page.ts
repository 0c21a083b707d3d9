import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { expect } from 'vitest'
import type { MailCatcher } from '@chat/server/testing'

export interface Account {
  email: string
  /** the display name others see */
  name: string
  password: string
  /** a bearer token of its own session, for speaking the chat protocol from the test */
  token: string
}

/**
 * A new account through the API; `localPart` names its email (random by default). With `mail` (a server
 * that mails links, so addresses must be confirmed) the account is confirmed by its mailed link's token.
 */
export async function registerAccount(
  base: string,
  { localPart, mail }: { localPart?: string; mail?: MailCatcher } = {},
): Promise<Account> {
  const id = crypto.randomUUID().slice(0, 8)
  const account = {
    email: `${localPart ?? `user-${id}`}@example.com`,
    name: `User ${id}`,
    password: 'a-good-password',
  }
  const registered = await postJson(base, '/register', {
    email: account.email,
    password: account.password,
    display_name: account.name,
  })
  expect(registered.status).toBe(mail ? 202 : 201)
  if (!mail) return { ...account, token: await accessTokenOf(registered) }
  const { text } = await mail.next(account.email, /^Confirm your email address/)
  const confirmed = await postJson(base, '/verify-email', { token: text.match(/#token=([\w-]+)/)?.[1] })
  expect(confirmed.status).toBe(200)
  return { ...account, token: await accessTokenOf(confirmed) }
}

const postJson = (base: string, path: string, body: unknown) =>
  fetch(`${base}/api/v1.0/user${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const accessTokenOf = async (response: Response) =>
  ((await response.json()) as { data: { access_token: string } }).data.access_token

/**
 * Browser contexts of one test, closed after it (so no page of an earlier test is still reconnecting
 * during a later one); a page that opens a dialog fails the test, as script ran.
 */
export function contextsOf(browser: () => Browser) {
  const open: BrowserContext[] = []
  const newContext = async (options: BrowserContextOptions = {}) => {
    const context = await browser().newContext(options)
    open.push(context)
    return context
  }
  return {
    newContext,
    async newPage(options: BrowserContextOptions = {}): Promise<Page> {
      const page = await (await newContext(options)).newPage()
      page.on('dialog', () => {
        throw new Error('a dialog opened: script ran')
      })
      return page
    },
    closeAll: () => Promise.all(open.splice(0).map((context) => context.close())),
  }
}

export const connected = (page: Page) => page.getByRole('status').filter({ hasText: 'Connected' })

export async function logIn(page: Page, base: string, account: { email: string; password: string }) {
  await page.goto(`${base}/app/login`)
  await page.getByLabel('Email').fill(account.email)
  await page.getByLabel('Password').fill(account.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await connected(page).waitFor({ timeout: 10_000 })
}

/** the text of each message on screen: the paragraph of its list item */
export const messagesOf = (page: Page) => page.getByRole('list', { name: 'Messages' }).getByRole('paragraph')

/** the list item of the message with this text, which says its place among all (aria-posinset/setsize) */
export const messageItem = (page: Page, text: string | RegExp) =>
  page
    .getByRole('list', { name: 'Messages' })
    .getByRole('listitem')
    .filter({ has: page.getByText(text) })

export const composer = (page: Page) => page.getByLabel('Message', { exact: true })

export async function sendMessage(page: Page, text: string) {
  await composer(page).fill(text)
  await composer(page).press('Enter')
}
