import { randomBytes } from 'node:crypto'
import { Secret, TOTP } from 'otpauth'
import { WRONG_CODE } from '@chat/contract'
import { createLimiter, secondsToWait, type LimiterStore } from '../auth/limiter-store.ts'
import { ApiError, invalidFields, tooManyRequests } from '../http/api-error.ts'
import { requireCurrentPassword } from '../users/password-policy.ts'
import type { User } from '../users/user-repository.ts'
import type { TwoFactorRepository } from './two-factor-repository.ts'

const ISSUER = 'Chat'
const PERIOD_SECONDS = 30
const RECOVERY_CODE_COUNT = 10
/** wrong codes one account may give in the window (ASVS 5.0 V6.3.1: no brute force of a 6-digit code) */
const MAX_WRONG_CODES = 5
const WRONG_CODE_WINDOW_SECONDS = 5 * 60

const totpOf = (secret: string, label = '') =>
  new TOTP({ issuer: ISSUER, label, secret: Secret.fromBase32(secret), period: PERIOD_SECONDS })

/** xxxxx-xxxxx from 50 random bits: typed by hand once, when the phone is lost. */
function newRecoveryCode(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789'
  const chars = [...randomBytes(10)].map((byte) => alphabet[byte % alphabet.length]).join('')
  return `${chars.slice(0, 5)}-${chars.slice(5)}`
}

/**
 * Optional TOTP (RFC 6238) per user: set up with the password, proven with a first code, then asked at
 * every login; ten one-time recovery codes for a lost phone. Each code works once (ASVS 5.0 V6.5.1), wrong
 * codes are limited per account, and nothing else (a password reset included) turns it off (ASVS 5.0 V6.4.3).
 */
export class TwoFactor {
  private readonly wrongCodes

  constructor(
    private readonly repository: TwoFactorRepository,
    store: LimiterStore,
  ) {
    this.wrongCodes = createLimiter(store, 'second-factor', MAX_WRONG_CODES, WRONG_CODE_WINDOW_SECONDS)
  }

  async isEnabled(userId: string): Promise<boolean> {
    return (await this.repository.find(userId))?.enabled ?? false
  }

  async status(userId: string): Promise<{ enabled: boolean; recovery_codes_left: number }> {
    const enabled = await this.isEnabled(userId)
    return { enabled, recovery_codes_left: enabled ? await this.repository.recoveryCodesLeft(userId) : 0 }
  }

  /** A new secret for the user's app, not in force until `enable` sees a code made with it. */
  async begin(user: User, password: string): Promise<{ secret: string; otpauth_uri: string }> {
    await requireCurrentPassword(user.passwordHash, password)
    const secret = new Secret({ size: 20 }).base32
    if (!(await this.repository.savePending(user.id, secret)))
      throw new ApiError(409, 'Two-factor authentication is on already; turn it off first to start again')
    return { secret, otpauth_uri: totpOf(secret, user.email).toString() }
  }

  /** Turns 2FA on with a first code from the app; returns the recovery codes, shown this once. */
  async enable(user: User, code: string): Promise<string[]> {
    const record = await this.repository.find(user.id)
    if (!record || record.enabled)
      throw new ApiError(409, record ? 'Two-factor authentication is on already' : 'Start the set-up first')
    await this.guarded(user.id, () => this.totpAccepted(user.id, record.secret, code, true))
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode)
    await this.repository.replaceRecoveryCodes(user.id, codes)
    return codes
  }

  async disable(user: User, password: string, code: string): Promise<void> {
    await requireCurrentPassword(user.passwordHash, password)
    await this.verify(user.id, code)
    await this.repository.remove(user.id)
  }

  async newRecoveryCodes(user: User, code: string): Promise<string[]> {
    await this.verify(user.id, code)
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode)
    await this.repository.replaceRecoveryCodes(user.id, codes)
    return codes
  }

  /** Accepts a current app code or an unused recovery code of a user with 2FA on; else throws. */
  async verify(userId: string, code: string): Promise<void> {
    const record = await this.repository.find(userId)
    if (!record?.enabled) throw new ApiError(409, 'Two-factor authentication is off')
    await this.guarded(userId, () =>
      /^\d{6}$/.test(code)
        ? this.totpAccepted(userId, record.secret, code, false)
        : this.repository.takeRecoveryCode(userId, code),
    )
  }

  /** The code of the current time step or a neighbour, not used before (the step is recorded). */
  private async totpAccepted(
    userId: string,
    secret: string,
    code: string,
    enable: boolean,
  ): Promise<boolean> {
    const delta = totpOf(secret).validate({ token: code, window: 1 })
    if (delta === null) return false
    return this.repository.useStep(userId, Math.floor(Date.now() / 1000 / PERIOD_SECONDS) + delta, enable)
  }

  /**
   * Each try takes a point before the code is checked, so parallel guesses cannot pass the limit; a right
   * code gives its point back.
   */
  private async guarded(userId: string, accepted: () => Promise<boolean>): Promise<void> {
    const retryAfter = await secondsToWait([this.wrongCodes.consume(userId)])
    if (retryAfter > 0) throw tooManyRequests('Too many wrong codes', retryAfter)
    if (!(await accepted())) throw invalidFields({ code: [WRONG_CODE] })
    await this.wrongCodes.reward(userId, 1)
  }
}
