import { WRONG_CURRENT_PASSWORD, type PasswordChange } from '@chat/contract'
import { createLimiter, secondsToWait, type LimiterStore } from '../auth/limiter-store.ts'
import { invalidFields, tooManyRequests } from '../http/api-error.ts'
import { tokenHash, type SessionStore } from '../sessions/session-store.ts'
import { hashPassword, verifyPassword } from '../users/password-hasher.ts'
import { newPasswordProblems, refuseOversizedPassword } from '../users/password-policy.ts'
import type { User, UserRepository } from '../users/user-repository.ts'

/** wrong current passwords one account may give within the window: a stolen session cannot guess on */
const MAX_WRONG_CURRENT = 5
const WINDOW_SECONDS = 15 * 60

/**
 * A logged-in user changes their password: the current one is asked first (ASVS 5.0 V6.2.3), and every
 * other session may be ended at once (ASVS 5.0 V7.4.3); this one stays.
 */
export class PasswordChanger {
  private readonly wrongAttempts

  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionStore,
    store: LimiterStore,
  ) {
    this.wrongAttempts = createLimiter(store, 'password-change', MAX_WRONG_CURRENT, WINDOW_SECONDS)
  }

  /** Returns how many other sessions it ended. */
  async change(user: User, sessionToken: string, change: PasswordChange): Promise<number> {
    refuseOversizedPassword(change.new_password)
    const { valid } = await verifyPassword(user.passwordHash, change.current_password)
    if (!valid) {
      const retryAfter = await secondsToWait([this.wrongAttempts.consume(user.id)])
      if (retryAfter > 0) throw tooManyRequests('Too many wrong current passwords', retryAfter)
      throw invalidFields({ current_password: [WRONG_CURRENT_PASSWORD] })
    }
    const problems = await newPasswordProblems(user.email, change.new_password)
    if (problems.length > 0) throw invalidFields({ new_password: problems })
    await this.users.update(user.id, { passwordHash: await hashPassword(change.new_password) })
    if (!change.end_other_sessions) return 0
    const current = tokenHash(sessionToken)
    const others = (await this.sessions.list(user.id)).filter((session) => session.id !== current)
    const ended = await Promise.all(others.map((session) => this.sessions.revokeById(user.id, session.id)))
    return ended.filter(Boolean).length
  }
}
