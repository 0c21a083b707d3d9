import { PASSWORD_RULE, displayNameMessages, fieldMessages } from '@chat/contract'
import { describe, expect, it } from 'vitest'
import { descriptionOf } from './browser'
import { browserSuite } from './browser-suite'

const via = process.env.E2E_STACK === '1' ? ', through nginx' : ''

describe(`registering in Chromium${via}`, () => {
  const suite = browserSuite()

  it('asks for a name, says the password rule before anything is typed, refuses a common password, then creates the account', async () => {
    const page = await suite.contexts.newPage()
    await page.goto(`${suite.base}/app/register`)
    expect(await descriptionOf(page, 'Password')).toBe(PASSWORD_RULE)

    await page.getByRole('button', { name: 'Create account' }).click()
    expect(await descriptionOf(page, 'Your name')).toBe(
      `Others in the chat see this name, never your email address. ${displayNameMessages.empty}`,
    )
    await page.getByLabel('Your name').fill('  Ada Lovelace ')
    await page.getByLabel('Email', { exact: true }).fill(`new-${crypto.randomUUID().slice(0, 8)}@example.com`)
    await page.getByLabel('Password', { exact: true }).fill('iloveyou')
    await page.getByRole('button', { name: 'Create account' }).click()
    // the common-password list is the server's (kept out of the page): its answer lands under the field
    await expect
      .poll(() => descriptionOf(page, 'Password'), { timeout: 10_000 })
      .toBe(`${PASSWORD_RULE} ${fieldMessages.commonPassword}`)
    expect(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid')).toBe('true')

    await page.getByLabel('Password', { exact: true }).fill('a tune nobody hums')
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 10_000 })
    // the name, trimmed, is the one shown
    await page.getByRole('banner').getByText('Ada Lovelace', { exact: true }).waitFor()
  })
})
