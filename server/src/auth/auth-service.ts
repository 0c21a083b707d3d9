import { defaultDisplayName, displayNameProblems, type Credentials, type Registration } from '@chat/contract'
import type { SessionClient, SessionStore, SessionUser } from '../sessions/session-store.ts'
import { burnVerificationTime, hashPassword, verifyPassword } from '../users/password-hasher.ts'
import { newPasswordProblems, refuseOversizedPassword } from '../users/password-policy.ts'
import type { User, UserRepository } from '../users/user-repository.ts'
import { ApiError, invalidFields, tooManyRequests } from '../http/api-error.ts'
import type { AccountTokenRepository } from '../accounts/account-token-repository.ts'
import type { TwoFactor } from '../two-factor/two-factor-service.ts'
import type { AuditLog } from '../audit/audit-log.ts'
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

/** Who may log in, and what a login or registration starts. */
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionStore,
    private readonly limiter: LoginLimiter,
    private readonly registrations: RegistrationLimiter,
    private readonly twoFactor: TwoFactor,
    private readonly tokens: AccountTokenRepository,
    private readonly audit: AuditLog,
    /** counts each login attempt that got as far as the limiter, by how it ended */
    private readonly countLogin: (result: LoginResult) => void,
  ) {}

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
    if ((await this.tokens.take(token, 'second_factor')) !== user.id) throw loginExpired()
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

  async register(
    { email, password, display_name: name }: Registration,
    client: SessionClient,
  ): Promise<string> {
    refuseOversizedPassword(password)
    const displayName = name === undefined ? defaultDisplayName(email) : name.trim()
    const nameProblems = displayNameProblems(displayName)
    if (nameProblems.length > 0) throw invalidFields({ display_name: nameProblems })
    const retryAfter = await this.registrations.attempt(client.address)
    if (retryAfter > 0) throw tooManyRequests('Too many new accounts from this address', retryAfter)
    const problems = await newPasswordProblems(email, password)
    if (problems.length > 0) throw invalidFields({ password: problems })
    const user = await this.users.insert({ email, displayName, passwordHash: await hashPassword(password) })
    if (!user) throw emailTaken()
    await this.audit.record({ event: 'registered', target: user, address: client.address })
    return this.startSession(user, client)
  }
}
