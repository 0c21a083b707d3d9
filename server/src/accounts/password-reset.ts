import { RESET_PASSWORD_PATH } from '@chat/contract'
import { createLimiter, secondsToWait, type LimiterStore } from '../auth/limiter-store.ts'
import { ApiError, invalidFields, tooManyRequests } from '../http/api-error.ts'
import type { AuditLog } from '../audit/audit-log.ts'
import type { Outbox } from '../mail/mail-plugin.ts'
import { newPasswordProblems, refuseOversizedPassword } from '../users/password-policy.ts'
import type { UserRepository } from '../users/user-repository.ts'
import type { UserService } from '../users/user-service.ts'
import { passwordResetMail } from './account-mails.ts'
import type { AccountTokenRepository } from './account-token-repository.ts'

const LINK_LIFETIME_MS = 60 * 60 * 1000
const LIMIT_WINDOW_SECONDS = 60 * 60
/** reset requests one client address may make an hour: past it, a 429 (it says nothing of any account) */
const REQUESTS_PER_ADDRESS = 10
/** reset mails one account may get an hour: past it, requests are answered alike and send nothing */
const MAILS_PER_ACCOUNT = 3

export const RESET_REQUESTED =
  'If an account uses that address, a link to reset its password is on its way. It works for an hour.'

const invalidLink = () =>
  new ApiError(400, 'This reset link is not valid: it has expired or been used. Ask for a new one.')

/**
 * "Forgot password": a mailed link (single use, an hour) to set a new one. The answer to a request is the
 * same whether or not the address has an account (ASVS 5.0 V6.3.8: no account enumeration); setting the
 * password ends every session of the user, closing their sockets (ASVS 5.0 V7.4.3). A second factor, once
 * there is one, is still asked at the next login: a reset never bypasses it (ASVS 5.0 V6.4.3).
 */
export class PasswordReset {
  private readonly byAddress
  private readonly byAccount

  constructor(
    private readonly users: UserRepository,
    private readonly accounts: UserService,
    private readonly tokens: AccountTokenRepository,
    private readonly outbox: Outbox,
    private readonly publicUrl: string,
    private readonly audit: AuditLog,
    store: LimiterStore,
  ) {
    this.byAddress = createLimiter(store, 'reset-address', REQUESTS_PER_ADDRESS, LIMIT_WINDOW_SECONDS)
    this.byAccount = createLimiter(store, 'reset-account', MAILS_PER_ACCOUNT, LIMIT_WINDOW_SECONDS)
  }

  async request(email: string, clientAddress: string): Promise<void> {
    const retryAfter = await secondsToWait([this.byAddress.consume(clientAddress)])
    if (retryAfter > 0)
      throw tooManyRequests('Too many password reset requests from this address', retryAfter)
    const user = await this.users.findByEmail(email)
    // a disabled account stays shut: an admin decided so
    if (!user || user.disabled) return
    await this.audit.record({ event: 'password_reset_requested', target: user, address: clientAddress })
    if ((await secondsToWait([this.byAccount.consume(user.id)])) > 0) return
    const token = await this.tokens.create(user.id, 'reset_password', LINK_LIFETIME_MS)
    const link = `${this.publicUrl}${RESET_PASSWORD_PATH}#token=${token}`
    this.outbox.post(passwordResetMail(user.email, link, LINK_LIFETIME_MS / 60_000), {
      userId: user.id,
      purpose: 'password reset',
    })
  }

  async complete(token: string, password: string, clientAddress: string): Promise<void> {
    refuseOversizedPassword(password)
    // the password is judged before the token is used, so a refused one does not cost the link
    const holder = await this.tokens.holder(token, 'reset_password')
    const user = holder && (await this.users.findById(holder))
    if (!user || user.disabled) throw invalidLink()
    const problems = await newPasswordProblems(user.email, password)
    if (problems.length > 0) throw invalidFields({ password: problems })
    if ((await this.tokens.take(token, 'reset_password'))?.userId !== user.id) throw invalidLink()
    await this.tokens.deleteAll(user.id, 'reset_password')
    await this.accounts.changePassword(user.id, password)
    await this.audit.record({ event: 'password_reset', target: user, address: clientAddress })
  }
}
