import { defaultDisplayName, displayNameProblems, type Credentials, type Registration } from '@chat/contract'
import type { SessionClient, SessionStore, SessionUser } from '../sessions/session-store.ts'
import { burnVerificationTime, hashPassword, verifyPassword } from '../users/password-hasher.ts'
import { newPasswordProblems, refuseOversizedPassword } from '../users/password-policy.ts'
import type { User, UserRepository } from '../users/user-repository.ts'
import { ApiError, invalidFields, tooManyRequests } from '../http/api-error.ts'
import type { AccountTokenRepository } from '../accounts/account-token-repository.ts'
import type { TwoFactor } from '../two-factor/two-factor-service.ts'
import type { AuditLog } from '../audit/audit-log.ts'
import type { EmailVerification } from '../accounts/email-verification.ts'
import { accountDisabled, emailTaken, tooManyAttempts, wrongCredentials } from './auth-errors.ts'
import type { LoginClient, LoginLimiter, RegistrationLimiter } from './login-limiter.ts'
import type { LoginResult } from '../metrics/metrics.ts'

const sessionUser = (user: User): SessionUser => ({ id: user.id, email: user.email })

/** A password login's outcome: a session, or (2FA on) a token to finish it with a code. */
export type LoginOutcome =
  { session: string; deviceToken: string } | { secondFactorToken: string; deviceToken: string }

/** How long a login whose password was right waits for its second factor. */
const SECOND_FACTOR_WAIT_MS = 5 * 60 * 1000

const loginExpired = () => new ApiError(401, 'This login has expired or been used; log in again')

export interface AuthDependencies {
  users: UserRepository
  sessions: SessionStore
  limiter: LoginLimiter
  registrations: RegistrationLimiter
  twoFactor: TwoFactor
  tokens: AccountTokenRepository
  audit: AuditLog
  verification: EmailVerification
  /** EMAIL_VERIFICATION=required: registration logs nobody in; an account logs in once confirmed */
  verificationRequired: boolean
  /** counts each login attempt that got as far as the limiter, by how it ended */
  countLogin: (result: LoginResult) => void
}

/** Who may log in, and what a login or registration starts. */
export class AuthService {
  private readonly users: UserRepository
  private readonly sessions: SessionStore
  private readonly limiter: LoginLimiter
  private readonly registrations: RegistrationLimiter
  private readonly twoFactor: TwoFactor
  private readonly tokens: AccountTokenRepository
  private readonly audit: AuditLog
  private readonly verification: EmailVerification
  private readonly verificationRequired: boolean
  private readonly countLogin: (result: LoginResult) => void

  constructor(dependencies: AuthDependencies) {
    this.users = dependencies.users
    this.sessions = dependencies.sessions
    this.limiter = dependencies.limiter
    this.registrations = dependencies.registrations
    this.twoFactor = dependencies.twoFactor
    this.tokens = dependencies.tokens
    this.audit = dependencies.audit
    this.verification = dependencies.verification
    this.verificationRequired = dependencies.verificationRequired
    this.countLogin = dependencies.countLogin
  }

  /**
   * Returns a new session token (or, with 2FA on, a token to finish the login with a code), and the
   * device token to remember this browser by. Unknown email and wrong password fail alike, in the same time.
   */
  async login({ email, password }: Credentials, client: LoginClient): Promise<LoginOutcome> {
    refuseOversizedPassword(password)
    const address = client.address
    const attempt = await this.limiter.attempt(email, client)
    if (attempt.retryAfter > 0) {
      await this.audit.record({ event: 'login_throttled', target: { email }, address })
      this.countLogin('throttled')
      throw tooManyAttempts(attempt.retryAfter)
    }
    const user = await this.users.findByEmail(email)
    if (!user) {
      await burnVerificationTime(password)
      await this.audit.record({
        event: 'login_failed',
        target: { email },
        address,
        detail: 'no such account',
      })
      this.countLogin('failure')
      throw wrongCredentials()
    }
    const { valid, needsRehash } = await verifyPassword(user.passwordHash, password)
    if (!valid) {
      await this.audit.record({ event: 'login_failed', target: user, address, detail: 'wrong password' })
      this.countLogin('failure')
      throw wrongCredentials()
    }
    // not confirmed yet, where that is required: the answer of a wrong password, so that registering an
    // address and then logging in cannot tell whether it had an account (ASVS 5.0 V6.3.8)
    if (this.verificationRequired && !user.confirmed) {
      await this.audit.record({ event: 'login_failed', target: user, address, detail: 'email not confirmed' })
      this.countLogin('failure')
      throw wrongCredentials()
    }
    // said only to whoever knows the password (ASVS 6.3.x: no account state to guessers)
    if (user.disabled) {
      await this.audit.record({ event: 'login_failed', target: user, address, detail: 'account disabled' })
      this.countLogin('disabled')
      throw accountDisabled()
    }
    const deviceToken = await this.limiter.succeeded(attempt, client)
    if (needsRehash) await this.users.update(user.id, { passwordHash: await hashPassword(password) })
    if (await this.twoFactor.isEnabled(user.id)) {
      const secondFactorToken = await this.tokens.create(user.id, 'second_factor', SECOND_FACTOR_WAIT_MS)
      return { secondFactorToken, deviceToken }
    }
    const session = await this.startSession(user, client)
    this.countLogin('success')
    return { session, deviceToken }
  }

  /** Finishes a login with a code from the app or a recovery code; returns the session token. */
  async completeWithSecondFactor(token: string, code: string, client: SessionClient): Promise<string> {
    const holder = await this.tokens.holder(token, 'second_factor')
    const user = holder && (await this.users.findById(holder))
    if (!user) throw loginExpired()
    if (user.disabled) throw accountDisabled()
    try {
      await this.twoFactor.verify(user.id, code)
    } catch (error) {
      await this.audit.record({ event: 'second_factor_failed', target: user, address: client.address })
      throw error
    }
    if ((await this.tokens.take(token, 'second_factor'))?.userId !== user.id) throw loginExpired()
    const session = await this.startSession(user, client, 'with a second factor')
    this.countLogin('success')
    return session
  }

  private async startSession(user: User, client: SessionClient, detail?: string): Promise<string> {
    const session = await this.sessions.create(sessionUser(user), {
      userAgent: client.userAgent,
      address: client.address,
    })
    await this.audit.record({ event: 'login_succeeded', target: user, address: client.address, detail })
    return session
  }

  /**
   * Creates the account and mails it a link to confirm its address. Returns a session token, or nothing
   * where confirmation is required: then a taken address gets the same answer (its owner a mail saying
   * someone tried) and no one learns whether it had an account (ASVS 5.0 V6.3.8).
   */
  async register(
    { email, password, display_name: name }: Registration,
    client: SessionClient,
  ): Promise<{ session: string | undefined }> {
    refuseOversizedPassword(password)
    const displayName = name === undefined ? defaultDisplayName(email) : name.trim()
    const nameProblems = displayNameProblems(displayName)
    if (nameProblems.length > 0) throw invalidFields({ display_name: nameProblems })
    const retryAfter = await this.registrations.attempt(client.address)
    if (retryAfter > 0) throw tooManyRequests('Too many new accounts from this address', retryAfter)
    const problems = await newPasswordProblems(email, password)
    if (problems.length > 0) throw invalidFields({ password: problems })
    const user = await this.users.insert({ email, displayName, passwordHash: await hashPassword(password) })
    if (!user) {
      if (!this.verificationRequired) throw emailTaken()
      const owner = await this.users.findByEmail(email)
      if (owner) await this.verification.tellOwnerOfAttempt(owner)
      return { session: undefined }
    }
    await this.audit.record({ event: 'registered', target: user, address: client.address })
    await this.verification.sendLink(user)
    return { session: this.verificationRequired ? undefined : await this.startSession(user, client) }
  }

  /**
   * The link mailed at registration: the address is confirmed, and its holder logged in unless the account
   * has a second factor (a mailed link never stands in for it, ASVS 5.0 V6.4.3).
   */
  async confirmEmail(token: string, client: SessionClient): Promise<string | undefined> {
    const user = await this.verification.confirm(token, client.address)
    if (user.disabled) throw accountDisabled()
    if (await this.twoFactor.isEnabled(user.id)) return undefined
    return this.startSession(user, client, 'by a confirmation link')
  }
}
