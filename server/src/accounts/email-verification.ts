import { CONFIRM_EMAIL_PATH, FORGOT_PASSWORD_PATH, VERIFY_EMAIL_PATH } from '@chat/contract'
import type { AuditLog } from '../audit/audit-log.ts'
import { createLimiter, secondsToWait, type LimiterStore } from '../auth/limiter-store.ts'
import { ApiError, tooManyRequests } from '../http/api-error.ts'
import type { Outbox } from '../mail/mail-plugin.ts'
import { requireCurrentPassword } from '../users/password-policy.ts'
import type { User, UserRepository } from '../users/user-repository.ts'
import {
  emailChangedMail,
  emailChangeMail,
  registrationAttemptMail,
  verificationMail,
} from './account-mails.ts'
import type { AccountTokenRepository } from './account-token-repository.ts'

const LINK_LIFETIME_MS = 24 * 60 * 60 * 1000
const LIMIT_WINDOW_SECONDS = 60 * 60
/** confirmation mails one account may get an hour (registration, re-sends, email changes) */
const MAILS_PER_ACCOUNT = 3
/** re-send requests one client address may make an hour */
const RESENDS_PER_ADDRESS = 10

const invalidLink = () =>
  new ApiError(400, 'This link is not valid: it has expired or been used. Ask for a new one.')

/**
 * Email addresses proven by a mailed link (256-bit token, stored hashed, 24 hours, single use; ASVS 5.0
 * V6.4.1): at registration, on request, and before a changed address takes effect (the old one is told).
 * Where the answer could tell whether an address has an account, it never does (ASVS 5.0 V6.3.8): a taken
 * address gets a mail saying someone tried, and the same answer.
 */
export class EmailVerification {
  private readonly byAccount
  private readonly resendsByAddress

  constructor(
    private readonly users: UserRepository,
    private readonly tokens: AccountTokenRepository,
    private readonly outbox: Outbox,
    private readonly audit: AuditLog,
    private readonly publicUrl: string,
    store: LimiterStore,
  ) {
    this.byAccount = createLimiter(store, 'verify-account', MAILS_PER_ACCOUNT, LIMIT_WINDOW_SECONDS)
    this.resendsByAddress = createLimiter(store, 'verify-address', RESENDS_PER_ADDRESS, LIMIT_WINDOW_SECONDS)
  }

  /** Mails a new account its link. */
  async sendLink(user: User): Promise<void> {
    if (!(await this.withinLimit(user.id))) return
    const token = await this.tokens.create(user.id, 'verify_email', LINK_LIFETIME_MS)
    this.outbox.post(verificationMail(user.email, this.link(VERIFY_EMAIL_PATH, token)), {
      userId: user.id,
      purpose: 'email verification',
    })
  }

  /** Someone registered an address that has an account: its owner hears of it, nothing else happens. */
  async tellOwnerOfAttempt(owner: User): Promise<void> {
    if (!(await this.withinLimit(owner.id))) return
    this.outbox.post(registrationAttemptMail(owner.email, `${this.publicUrl}${FORGOT_PASSWORD_PATH}`), {
      userId: owner.id,
      purpose: 'registration attempt',
    })
  }

  /** A new link for an unconfirmed account of that address; the same answer for any address. */
  async resend(email: string, clientAddress: string): Promise<void> {
    const retryAfter = await secondsToWait([this.resendsByAddress.consume(clientAddress)])
    if (retryAfter > 0)
      throw tooManyRequests('Too many requests for confirmation links from this address', retryAfter)
    const user = await this.users.findByEmail(email)
    if (user && !user.confirmed && !user.disabled) await this.sendLink(user)
  }

  /** Confirms the address of the link's account; returns that user. */
  async confirm(token: string, clientAddress: string): Promise<User> {
    const taken = await this.tokens.take(token, 'verify_email')
    const user = taken && (await this.users.findById(taken.userId))
    if (!user || user.deleted) throw invalidLink()
    await this.users.update(user.id, { confirmed: true })
    await this.tokens.deleteAll(user.id, 'verify_email')
    await this.audit.record({ event: 'email_verified', target: user, address: clientAddress })
    return { ...user, confirmed: true }
  }

  /** A logged-in user asks for a new address: a link goes to it; the answer never says it is taken. */
  async requestChange(user: User, newEmail: string, password: string): Promise<void> {
    await requireCurrentPassword(user.passwordHash, password)
    const owner = await this.users.findByEmail(newEmail)
    if (owner) {
      if (owner.id !== user.id) await this.tellOwnerOfAttempt(owner)
      return
    }
    if (!(await this.withinLimit(user.id))) return
    const token = await this.tokens.create(user.id, 'change_email', LINK_LIFETIME_MS, newEmail)
    this.outbox.post(emailChangeMail(newEmail, this.link(CONFIRM_EMAIL_PATH, token)), {
      userId: user.id,
      purpose: 'email change',
    })
  }

  /** The new address is proven: it takes effect, and the old one is told. */
  async confirmChange(token: string, clientAddress: string): Promise<void> {
    const taken = await this.tokens.take(token, 'change_email')
    const user = taken?.detail && (await this.users.findById(taken.userId))
    if (!user || user.deleted || !taken?.detail) throw invalidLink()
    const newEmail = taken.detail
    if (!(await this.users.changeEmail(user.id, newEmail)))
      throw new ApiError(409, 'That address has been taken by another account meanwhile')
    await this.tokens.deleteAll(user.id, 'change_email')
    this.outbox.post(emailChangedMail(user.email, newEmail), { userId: user.id, purpose: 'email changed' })
    await this.audit.record({
      event: 'email_changed',
      actor: user,
      target: { id: user.id, email: newEmail },
      address: clientAddress,
      detail: `from ${user.email}`,
    })
  }

  private link(path: string, token: string): string {
    return `${this.publicUrl}${path}#token=${token}`
  }

  private async withinLimit(userId: string): Promise<boolean> {
    return (await secondsToWait([this.byAccount.consume(userId)])) === 0
  }
}
