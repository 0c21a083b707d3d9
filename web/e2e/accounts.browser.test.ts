import {
  ACCOUNT_DELETED,
  EMAIL_CHANGED,
  EMAIL_CHANGE_MAILED,
  REGISTRATION_MAILED,
  VERIFICATION_RESENT,
  WRONG_CODE,
  WRONG_CURRENT_PASSWORD,
  displayNameMessages,
} from '@chat/contract'
import { startMailCatcher, type MailCatcher } from '@chat/server/testing'
import { Secret, TOTP } from 'otpauth'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { descriptionOf, seriousViolations } from './browser'
import { browserSuite } from './browser-suite'
import { connected, logIn as logInAs, registerAccount, type Account } from './chat-page'

const via = process.env.E2E_STACK === '1' ? ', through nginx' : ''
/** where the server's mailed links point; the test opens their path on the server under test */
const PUBLIC_URL = 'https://chat.example.org'
const STEP_MS = 30_000

/** A code of the authenticator app `steps` time steps from now (the server takes one step either side). */
const totpCode = (secret: string, steps = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + steps * STEP_MS })

describe(`accounts in Chromium${via}: mailed links, settings, two-step login, the admin console`, () => {
  let mail: MailCatcher
  // before the suite's own hooks, so the server starts with the catcher's address and stops before it
  beforeAll(async () => {
    mail = await startMailCatcher()
  })
  afterAll(() => mail?.close())
  const suite = browserSuite(() => ({ SMTP_URL: mail.url, PUBLIC_URL, MAIL_FROM: 'chat@example.org' }))
  const { newPage } = suite.contexts
  const register = () => registerAccount(suite.base, { mail })
  const logIn = (page: Page, account: { email: string; password: string }) =>
    logInAs(page, suite.base, account)

  /** the link in the newest mail to `to` whose subject matches, opened on the server under test */
  async function openMailedLink(page: Page, to: string, subject: RegExp, path: string) {
    const { text } = await mail.next(to, subject)
    const link = text.match(new RegExp(`${PUBLIC_URL}${path}#token=[\\w-]+`))?.[0]
    expect(link, text).toBeDefined()
    const { pathname, hash } = new URL(link!)
    await page.goto(`${suite.base}${pathname}${hash}`)
  }

  async function openSettings(page: Page) {
    // on a phone the link is in the drawer
    const drawer = page.getByRole('button', { name: 'Rooms and people' })
    if (await drawer.isVisible()) await drawer.click()
    await page.getByRole('link', { name: 'Settings' }).click()
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor()
  }

  const sessionsList = (page: Page) => page.getByRole('list', { name: 'Where you are logged in' })

  it('registers with a name, confirms the address through the mailed link, then changes it through a link to the new one', async () => {
    const id = crypto.randomUUID().slice(0, 8)
    const email = `new-${id}@example.com`
    const page = await newPage()
    await page.goto(`${suite.base}/app/register`)
    await page.getByLabel('Your name').fill(`Newcomer ${id}`)
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill('a-good-password')
    await page.getByRole('button', { name: 'Create account' }).click()
    const checkMail = page.getByRole('heading', { name: 'Check your mail' })
    await checkMail.waitFor()
    expect(await checkMail.evaluate((heading) => heading === document.activeElement)).toBe(true)
    await page.getByText(REGISTRATION_MAILED).waitFor()
    expect(await seriousViolations(page)).toEqual([])
    await page.getByRole('button', { name: 'Send the link again' }).click()
    await page.getByRole('status').filter({ hasText: VERIFICATION_RESENT }).waitFor()

    // either link works once; the second is opened
    await mail.next(email, /^Confirm your email address/)
    await openMailedLink(page, email, /^Confirm your email address/, '/app/verify-email')
    await page.getByText('Your email address is confirmed. You are logged in.').waitFor()
    await page.waitForURL(`${suite.base}/app/verify-email`)
    expect(await seriousViolations(page)).toEqual([])
    await page.getByRole('link', { name: 'Go to the chat' }).click()
    await connected(page).waitFor({ timeout: 10_000 })
    await page.getByRole('banner').getByText(`Newcomer ${id}`, { exact: true }).waitFor()

    await openSettings(page)
    const newEmail = `moved-${id}@example.com`
    await page.getByLabel('New email address').fill(newEmail)
    await page.getByLabel('Password to change the email').fill('a-good-password')
    await page.getByRole('button', { name: 'Change email address' }).click()
    await page.getByRole('status').filter({ hasText: EMAIL_CHANGE_MAILED }).waitFor()
    await page.getByText(`Your email address is ${email}.`).waitFor()
    await openMailedLink(page, newEmail, /^Confirm your new email address/, '/app/confirm-email')
    await page.getByRole('status').filter({ hasText: EMAIL_CHANGED }).waitFor()
    expect(await seriousViolations(page)).toEqual([])
    await mail.next(email, /email address was changed/)
    await page.getByRole('link', { name: 'Back to your settings' }).click()
    await page.getByText(`Your email address is ${newEmail}.`).waitFor()
  })

  it('resets a forgotten password through the mailed link, which ends every session, then logs in with the new one', async () => {
    const account = await register()
    const [chatPage, page] = [await newPage(), await newPage()]
    await logIn(chatPage, account)

    await page.goto(`${suite.base}/app/login`)
    await page.getByRole('link', { name: 'Forgot password?' }).click()
    await page.getByRole('heading', { name: 'Forgot password' }).waitFor()
    await page.getByRole('button', { name: 'Send the link' }).click()
    expect(await descriptionOf(page, 'Email')).toBe('Enter your email address.')
    await page.getByLabel('Email').fill(account.email)
    await page.getByRole('button', { name: 'Send the link' }).click()
    await page.getByRole('status').filter({ hasText: 'a link to reset its password is on its way' }).waitFor()
    expect(await seriousViolations(page)).toEqual([])

    await openMailedLink(page, account.email, /reset/i, '/app/reset-password')
    await page.getByRole('heading', { name: 'Set a new password' }).waitFor()
    // the token leaves the address bar (and so the history) at once
    await page.waitForURL(`${suite.base}/app/reset-password`)
    expect(await seriousViolations(page)).toEqual([])
    await page.getByLabel('New password').fill('a brand new passphrase')
    await page.getByRole('button', { name: 'Set the password' }).click()
    await page.getByRole('status').filter({ hasText: 'Your password is changed. Log in with it.' }).waitFor()
    // the session that was open elsewhere ended with the reset
    await chatPage.getByText('Session ended. Please log in again.').waitFor({ timeout: 5_000 })

    await page.getByRole('link', { name: 'Log in' }).click()
    await logIn(page, { email: account.email, password: 'a brand new passphrase' })
  })

  it('changes the name, lists sessions with this device marked, ends one, changes the password ending the others, and deletes the account', async () => {
    const account = await register()
    const pages = [await newPage(), await newPage(), await newPage()]
    for (const page of pages) await logIn(page, account)
    const [page, other, another] = pages as [Page, Page, Page]
    await openSettings(page)
    // three pages, and the session registering started (as an API client)
    await expect.poll(() => sessionsList(page).getByRole('listitem').count()).toBe(4)
    await page.getByLabel('Name others see').fill(' ')
    await page.getByRole('button', { name: 'Save name' }).click()
    expect(await descriptionOf(page, 'Name others see')).toContain(displayNameMessages.empty)
    await page.getByLabel('Name others see').fill('Grace Hopper')
    await page.getByRole('button', { name: 'Save name' }).click()
    await page.getByText('Logged in as Grace Hopper').waitFor()
    expect(await sessionsList(page).getByRole('listitem').filter({ hasText: '(this device)' }).count()).toBe(
      1,
    )
    expect(await seriousViolations(page)).toEqual([])

    // the current session has no button: only the others can be ended here
    const endButtons = sessionsList(page).getByRole('button', { name: /^End session: / })
    expect(await endButtons.count()).toBe(3)
    await endButtons.first().click()
    await expect.poll(() => sessionsList(page).getByRole('listitem').count()).toBe(3)
    await page
      .getByRole('status')
      .filter({ hasText: /^The session on .+ ended\.$/ })
      .waitFor()

    await page.getByLabel('Current password').fill('not my password')
    await page.getByLabel('New password', { exact: true }).fill('another good passphrase')
    await page.getByRole('button', { name: 'Change password' }).click()
    await expect.poll(() => descriptionOf(page, 'Current password')).toBe(WRONG_CURRENT_PASSWORD)
    await page.getByLabel('Current password').fill(account.password)
    expect(await page.getByLabel('End my other sessions').isChecked()).toBe(true)
    await page.getByRole('button', { name: 'Change password' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: 'Your password is changed. 2 other sessions ended.' })
      .waitFor()
    await expect.poll(() => sessionsList(page).getByRole('listitem').count()).toBe(1)
    // every other page is logged out, by the end button or by the password change
    for (const ended of [other, another])
      await ended.waitForURL(`${suite.base}/app/login`, { timeout: 5_000 })

    await page.getByLabel('Password to delete the account').fill('another good passphrase')
    await page.getByRole('button', { name: 'Delete my account' }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete your account?' })
    await dialog.waitFor()
    expect(await seriousViolations(page)).toEqual([])
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await page.getByRole('button', { name: 'Delete my account' }).click()
    await dialog.getByRole('button', { name: 'Delete it' }).click()
    await page.waitForURL(`${suite.base}/app/login`)
    await page.getByText(ACCOUNT_DELETED).waitFor()
    await page.getByLabel('Email').fill(account.email)
    await page.getByLabel('Password').fill('another good passphrase')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor()
  })

  it('sets up two-step login from a QR code, asks for a code or a recovery code at login, renews the codes and turns it off', async () => {
    const account = await register()
    const page = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
    await logIn(page, account)
    await openSettings(page)
    const section = page.getByRole('region', { name: 'Two-step login' })
    await section.getByRole('status').filter({ hasText: 'Two-step login is off.' }).waitFor()
    await page.getByRole('button', { name: 'Set up two-step login' }).click()
    await page.getByLabel('Your password').fill(account.password)
    const setupAnswer = page.waitForResponse('**/api/v1.0/user/2fa/setup')
    await page.getByRole('button', { name: 'Continue' }).click()
    const { secret } = ((await (await setupAnswer).json()) as { data: { secret: string } }).data
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' })
    await qr.waitFor()
    expect(await qr.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0)).toBe(
      true,
    )
    expect(await page.getByLabel('Key for your authenticator app').textContent()).toBe(secret)
    // a phone: the page fits its width
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    expect(await seriousViolations(page)).toEqual([])

    await page.getByLabel('Code from the app').fill('000000')
    await page.getByRole('button', { name: 'Turn on two-step login' }).click()
    await expect.poll(() => descriptionOf(page, 'Code from the app')).toBe(WRONG_CODE)
    // each code works once: the previous step's now, the current and the next at the logins below
    await page.getByLabel('Code from the app').fill(totpCode(secret, -1))
    await page.getByRole('button', { name: 'Turn on two-step login' }).click()
    const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem')
    await expect.poll(() => codes.count()).toBe(10)
    const recoveryCodes = await codes.allTextContents()
    expect(
      await page
        .getByRole('heading', { name: 'Your recovery codes' })
        .evaluate((h) => h === document.activeElement),
    ).toBe(true)
    await page.getByRole('button', { name: 'I have saved them' }).click()
    await section.getByText('Two-step login is on. 10 recovery codes left.').waitFor()

    // logging in now takes a code after the password
    const second = await newPage()
    await second.goto(`${suite.base}/app/login`)
    await second.getByLabel('Email').fill(account.email)
    await second.getByLabel('Password').fill(account.password)
    await second.getByRole('button', { name: 'Log in' }).click()
    await second.getByRole('heading', { name: 'Two-step check' }).waitFor()
    expect(
      await second
        .getByRole('heading', { name: 'Two-step check' })
        .evaluate((h) => h === document.activeElement),
    ).toBe(true)
    expect(await seriousViolations(second)).toEqual([])
    await second.getByLabel('Code').fill('123456')
    await second.getByRole('button', { name: 'Finish logging in' }).click()
    await expect.poll(() => descriptionOf(second, 'Code')).toContain(WRONG_CODE)
    await second.getByLabel('Code').fill(totpCode(secret))
    await second.getByRole('button', { name: 'Finish logging in' }).click()
    await connected(second).waitFor({ timeout: 10_000 })

    // or a recovery code, when the phone is not at hand
    const third = await newPage()
    await third.goto(`${suite.base}/app/login`)
    await third.getByLabel('Email').fill(account.email)
    await third.getByLabel('Password').fill(account.password)
    await third.getByRole('button', { name: 'Log in' }).click()
    await third.getByLabel('Code').fill(recoveryCodes[0]!)
    await third.getByRole('button', { name: 'Finish logging in' }).click()
    await connected(third).waitFor({ timeout: 10_000 })

    await page.reload()
    await section.getByText('Two-step login is on. 9 recovery codes left.').waitFor()
    const renew = page.getByRole('form', { name: 'New recovery codes' })
    await renew.getByLabel('Code from the app or a recovery code').fill(totpCode(secret, 1))
    await renew.getByRole('button', { name: 'Make new recovery codes' }).click()
    await expect.poll(() => codes.count()).toBe(10)
    const renewed = await codes.allTextContents()
    expect(renewed).not.toContain(recoveryCodes[1])
    await page.getByRole('button', { name: 'I have saved them' }).click()

    const off = page.getByRole('form', { name: 'Turn off two-step login' })
    await off.getByLabel('Password').fill(account.password)
    // an old recovery code stopped working when new ones were made
    await off.getByLabel('Code from the app or a recovery code').fill(recoveryCodes[1]!)
    await off.getByRole('button', { name: 'Turn off two-step login' }).click()
    await off.getByText(WRONG_CODE).waitFor()
    await off.getByLabel('Code from the app or a recovery code').fill(renewed[0]!)
    await off.getByRole('button', { name: 'Turn off two-step login' }).click()
    await section.getByRole('status').filter({ hasText: 'Two-step login is off.' }).first().waitFor()
    await page.getByRole('button', { name: 'Set up two-step login' }).waitFor()
  }, 60_000)

  it('gives admins a console: users searched and paged, actions confirmed, the audit log filtered and paged, the 2FA rule', async () => {
    const prefix = `paged-${crypto.randomUUID().slice(0, 6)}`
    const many: Account[] = []
    for (let i = 0; i < 26; i++)
      many.push(
        await registerAccount(suite.base, { localPart: `${prefix}-${String(i).padStart(2, '0')}`, mail }),
      )
    const target = many[0]!
    const [page, targetPage] = [await newPage(), await newPage()]
    await logIn(targetPage, target)
    // a user has no way in: no link, and the address leads back to the chat
    await targetPage.getByRole('link', { name: 'Settings' }).waitFor()
    expect(await targetPage.getByRole('link', { name: 'Admin console' }).count()).toBe(0)
    await targetPage.goto(`${suite.base}/app/admin`)
    await targetPage.waitForURL(`${suite.base}/app/`)

    await logIn(page, suite.server.admin)
    await page.getByRole('link', { name: 'Admin console' }).click()
    await page.getByRole('heading', { name: 'Admin console' }).waitFor()
    await page.getByLabel('Search by email').fill(prefix)
    await page.getByRole('button', { name: 'Search' }).click()
    await page.getByRole('status').filter({ hasText: 'Users 1 to 25 of 26.' }).waitFor()
    expect(await seriousViolations(page)).toEqual([])
    await page.getByRole('button', { name: 'Next page' }).click()
    await page.getByRole('status').filter({ hasText: 'Users 26 to 26 of 26.' }).waitFor()
    await page.getByRole('button', { name: 'Previous page' }).click()
    await page.getByRole('status').filter({ hasText: 'Users 1 to 25 of 26.' }).waitFor()

    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: target.email }) })
    const disable = row.getByRole('button', { name: `Disable: ${target.email}` })
    await disable.click()
    const dialog = page.getByRole('dialog', { name: `Disable: ${target.email}?` })
    await dialog.waitFor()
    expect(await seriousViolations(page)).toEqual([])
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    expect(await row.getByRole('cell').first().textContent()).not.toContain('disabled')
    await disable.click()
    await dialog.getByRole('button', { name: 'Disable' }).click()
    await expect.poll(() => row.getByRole('cell').first().textContent()).toContain('disabled')
    // disabling ended their session
    await targetPage.waitForURL(`${suite.base}/app/login`, { timeout: 5_000 })
    await row.getByRole('button', { name: `Enable: ${target.email}` }).waitFor()

    // each action asks first, then the row shows the new state
    const act = async (user: Account, verb: string) => {
      await page.getByRole('button', { name: `${verb}: ${user.email}` }).click()
      await page
        .getByRole('dialog', { name: `${verb}: ${user.email}?` })
        .getByRole('button', { name: verb })
        .click()
    }
    await act(target, 'Enable')
    await act(target, 'Make admin')
    await expect.poll(() => row.getByRole('cell').first().textContent()).toBe('admin')
    await act(target, 'Remove admin')
    await expect.poll(() => row.getByRole('cell').first().textContent()).toBe('active')
    await act(many[1]!, 'Delete')
    await page.getByRole('status').filter({ hasText: 'Users 1 to 25 of 25.' }).waitFor()
    expect(await page.getByRole('rowheader', { name: many[1]!.email }).count()).toBe(0)

    await row.getByRole('button', { name: `Audit log of ${target.email}` }).click()
    const audit = page.getByRole('table', { name: 'Audit log' })
    await audit.getByRole('row').filter({ hasText: 'Admin disabled a user' }).waitFor()
    expect(await audit.getByRole('row').filter({ hasText: 'Registered' }).count()).toBe(1)
    await page.getByLabel('User id').fill('')
    await page.getByLabel('Event').selectOption({ label: 'Registered' })
    await page.getByRole('button', { name: 'Show' }).click()
    // 27 or more registrations (the admin's own at start among them): newest first, 50 a page
    await expect
      .poll(() => audit.getByRole('row').filter({ hasText: 'Admin disabled a user' }).count())
      .toBe(0)
    const firstShown = await audit.getByRole('row').nth(1).textContent()
    expect(firstShown).toContain(many.at(-1)!.email)

    await page.getByLabel('Event').selectOption({ label: 'All events' })
    await page.getByRole('button', { name: 'Show' }).click()
    await page.getByRole('status').filter({ hasText: '50 entries shown.' }).waitFor()
    await page.getByRole('button', { name: 'Older entries' }).click()
    await expect.poll(() => page.getByRole('button', { name: 'Newer entries' }).isEnabled()).toBe(true)
    await page.getByRole('button', { name: 'Newer entries' }).click()
    await page.getByRole('status').filter({ hasText: '50 entries shown.' }).waitFor()

    // the admin has no second factor: requiring it of admins would lock them out, and the page says so
    await page.getByLabel('Require two-step login for admins').check()
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page
      .getByRole('alert')
      .filter({ hasText: 'Turn on two-factor authentication for yourself first' })
      .waitFor()
    // the box goes back to what is in force
    await expect.poll(() => page.getByLabel('Require two-step login for admins').isChecked()).toBe(false)

    // on a phone the tables scroll within themselves (reachable by keyboard); the page, and the chat's header, fit the width
    await page.setViewportSize({ width: 390, height: 844 })
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    expect(await seriousViolations(page)).toEqual([])
    await page.getByRole('link', { name: 'Back to the chat' }).click()
    await connected(page).waitFor()
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
  })
})
