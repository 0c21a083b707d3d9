import { fieldMessages, PASSWORD_MAX_BYTES, utf8Length, type Credentials } from '@chat/contract'
import type { SessionStore, SessionUser } from '../sessions/session-store.ts'
import { burnVerificationTime, hashPassword, verifyPassword } from '../users/password-hasher.ts'
import { newPasswordProblems } from '../users/password-policy.ts'
import type { User, UserRepository } from '../users/user-repository.ts'
import { invalidFields } from '../http/api-error.ts'
import { tooManyRequests } from '../http/api-error.ts'
import { accountDisabled, emailTaken, tooManyAttempts, wrongCredentials } from './auth-errors.ts'
import type { LoginClient, LoginLimiter, RegistrationLimiter } from './login-limiter.ts'
import type { LoginResult } from '../metrics/metrics.ts'

const sessionUser = (user: User): SessionUser => ({ id: user.id, email: user.email })

// The schema bounds characters; a multi-byte password can still pass it and be over the byte limit.
function refuseOversizedPassword(password: string): void {
  if (utf8Length(password) > PASSWORD_MAX_BYTES) {
    throw invalidFields({ password: [fieldMessages.maxBytes(PASSWORD_MAX_BYTES)] })
  }
}

/** Who may log in, and what a login or registration starts. */
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionStore,
    private readonly limiter: LoginLimiter,
    private readonly registrations: RegistrationLimiter,
    /** counts each login attempt that got as far as the limiter, by how it ended */
    private readonly countLogin: (result: LoginResult) => void,
  ) {}

  /**
   * Returns a new session token, and the device token to remember this browser by. Unknown email and
   * wrong password fail alike, in the same time.
   */
  async login(
    { email, password }: Credentials,
    client: LoginClient,
  ): Promise<{ token: string; deviceToken: string }> {
    refuseOversizedPassword(password)
    const attempt = await this.limiter.attempt(email, client)
    if (attempt.retryAfter > 0) {
      this.countLogin('throttled')
      throw tooManyAttempts(attempt.retryAfter)
    }
    const user = await this.users.findByEmail(email)
    if (!user) {
      await burnVerificationTime(password)
      this.countLogin('failure')
      throw wrongCredentials()
    }
    const { valid, needsRehash } = await verifyPassword(user.passwordHash, password)
    if (!valid) {
      this.countLogin('failure')
      throw wrongCredentials()
    }
    // said only to whoever knows the password (ASVS 6.3.x: no account state to guessers)
    if (user.disabled) {
      this.countLogin('disabled')
      throw accountDisabled()
    }
    const deviceToken = await this.limiter.succeeded(attempt, client)
    if (needsRehash) await this.users.update(user.id, { passwordHash: await hashPassword(password) })
    const token = await this.sessions.create(sessionUser(user))
    this.countLogin('success')
    return { token, deviceToken }
  }

  async register({ email, password }: Credentials, clientAddress: string): Promise<string> {
    refuseOversizedPassword(password)
    const retryAfter = await this.registrations.attempt(clientAddress)
    if (retryAfter > 0) throw tooManyRequests('Too many new accounts from this address', retryAfter)
    const problems = await newPasswordProblems(email, password)
    if (problems.length > 0) throw invalidFields({ password: problems })
    const user = await this.users.insert({ email, passwordHash: await hashPassword(password) })
    if (!user) throw emailTaken()
    return this.sessions.create(sessionUser(user))
  }
}
