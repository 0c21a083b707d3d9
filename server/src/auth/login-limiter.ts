import { createHash, randomBytes } from 'node:crypto'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import { createLimiter, secondsToWait, type LimiterStore } from './limiter-store.ts'

export interface LoginLimits {
  /** failures from clients the account has never logged in from, per account: a soft cap */
  maxFailuresPerAccount: number
  /** failures per account from one address, or from one known device */
  maxFailuresPerClient: number
  /** failures from one address, across accounts (password spraying) */
  maxFailuresPerAddress: number
  windowSeconds: number
}

/** A browser that logged in to an account before is remembered this long (its device cookie too). */
// 20 days: the in-process store keeps a key with a timer, and a timer holds at most 24.8 days
export const KNOWN_CLIENT_SECONDS = 20 * 24 * 60 * 60

/** One attempt, as `succeeded` needs it back. */
export interface LoginAttempt {
  account: string
  retryAfter: number
  /** whether it took a point of the account's allowance for unknown clients (given back on success) */
  countedOnAccount: boolean
}

/** Who is trying to log in: where from, and the device cookie the browser sent, if any. */
export interface LoginClient {
  address: string
  deviceToken: string | undefined
  /** the browser's User-Agent, shown to the user in their list of sessions */
  userAgent: string
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url')

/**
 * Throttles password guessing without letting an attacker lock the owner out (OWASP Authentication Cheat
 * Sheet, "Slow Down Online Guessing Attacks with Device Cookies"; ASVS 6.3.1):
 * - every account+address pair, and every known device, gets a few failures per window (strict);
 * - every address gets many, across accounts (password spraying);
 * - an account gets a soft cap on failures from clients it has never logged in from; once reached, only
 *   those are held back: a browser with the account's device cookie, or an address it logged in from
 *   before, still logs in with the right password, however many addresses the attacker guesses from.
 * Each attempt takes its points before the password is checked, so parallel guesses cannot exceed a
 * limit. A device cookie is a random token whose hash is remembered per account (nothing to forge or
 * sign); one that fails too often is no longer trusted until its window passes.
 */
export class LoginLimiter {
  private readonly byAccount: RateLimiterAbstract
  private readonly byClient: RateLimiterAbstract
  private readonly byAddress: RateLimiterAbstract
  /** `account|device:<hash>` and `account|address:<ip>` of successful logins: used as a set with expiry */
  private readonly knownClients: RateLimiterAbstract

  constructor(limits: LoginLimits, store: LimiterStore) {
    const window = limits.windowSeconds
    this.byAccount = createLimiter(store, 'login-account', limits.maxFailuresPerAccount, window)
    this.byClient = createLimiter(store, 'login-client', limits.maxFailuresPerClient, window)
    this.byAddress = createLimiter(store, 'login-address', limits.maxFailuresPerAddress, window)
    this.knownClients = createLimiter(store, 'login-known', 1, KNOWN_CLIENT_SECONDS)
  }

  /**
   * Takes one attempt: `retryAfter` is how many seconds to wait when it is over a limit, else 0. The
   * client's and the address's limits are taken first; only an attempt they let through counts against
   * the account, so one noisy client cannot use up the account's allowance for everyone else.
   */
  async attempt(email: string, client: LoginClient): Promise<LoginAttempt> {
    const account = email.toLowerCase()
    const device = client.deviceToken && `${account}|device:${sha256(client.deviceToken)}`
    const address = `${account}|address:${client.address}`
    const [knownDevice, knownAddress] = await Promise.all([
      device ? this.isKnown(device) : false,
      this.isKnown(address),
    ])
    const retryAfter = await secondsToWait([
      this.byAddress.consume(client.address),
      this.byClient.consume(knownDevice ? device! : address),
    ])
    const countedOnAccount = retryAfter === 0 && !knownDevice && !knownAddress
    if (countedOnAccount)
      return { account, retryAfter: await secondsToWait([this.byAccount.consume(account)]), countedOnAccount }
    return { account, retryAfter, countedOnAccount }
  }

  /**
   * The right password: this client's failures are forgotten, the address gets its attempt back, and the
   * address and device become known to the account. Returns the device token to set as a cookie (the
   * one the browser sent, or a new one). The account's count of unknown clients' failures stays: an
   * attacker's guesses do not start over because the owner logged in.
   */
  async succeeded({ account, countedOnAccount }: LoginAttempt, client: LoginClient): Promise<string> {
    const deviceToken = client.deviceToken ?? randomBytes(32).toString('base64url')
    const device = `${account}|device:${sha256(deviceToken)}`
    const address = `${account}|address:${client.address}`
    await Promise.all([
      this.byAddress.reward(client.address, 1),
      countedOnAccount ? this.byAccount.reward(account, 1) : undefined,
      this.byClient.delete(device),
      this.byClient.delete(address),
      this.knownClients.set(device, 1, KNOWN_CLIENT_SECONDS),
      this.knownClients.set(address, 1, KNOWN_CLIENT_SECONDS),
    ])
    return deviceToken
  }

  private async isKnown(key: string): Promise<boolean> {
    // a known device that keeps failing is treated as unknown until its failures expire
    const [known, failures] = await Promise.all([this.knownClients.get(key), this.byClient.get(key)])
    return known !== null && (failures === null || failures.remainingPoints > 0)
  }
}

/** Registrations from one address per window (ASVS 6.3.x: anti-automation of account creation). */
export class RegistrationLimiter {
  private readonly byAddress: RateLimiterAbstract

  constructor(limits: { maxPerAddress: number; windowSeconds: number }, store: LimiterStore) {
    this.byAddress = createLimiter(store, 'register-address', limits.maxPerAddress, limits.windowSeconds)
  }

  /** Takes one registration; returns how many seconds to wait when over the limit, else 0. */
  attempt(address: string): Promise<number> {
    return secondsToWait([this.byAddress.consume(address)])
  }
}
