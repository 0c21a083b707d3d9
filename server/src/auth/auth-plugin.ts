import { TWO_FACTOR_REQUIRED_FOR_ADMINS } from '@chat/contract'
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config/config.ts'
import { AccountTokenRepository } from '../accounts/account-token-repository.ts'
import { SettingsRepository } from '../admin/settings-repository.ts'
import { ApiError } from '../http/api-error.ts'
import { AuditLog, AuditRepository } from '../audit/audit-log.ts'
import { EmailVerification } from '../accounts/email-verification.ts'
import { TwoFactorRepository } from '../two-factor/two-factor-repository.ts'
import { TwoFactor } from '../two-factor/two-factor-service.ts'
import { UserRepository, type User } from '../users/user-repository.ts'
import { UserService } from '../users/user-service.ts'
import { notLoggedIn } from './auth-errors.ts'
import { AuthService } from './auth-service.ts'
import { LoginLimiter, RegistrationLimiter } from './login-limiter.ts'

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService
    twoFactor: TwoFactor
    audit: AuditLog
    emailVerification: EmailVerification
    /** changes to accounts that end their sessions: role, password, disabled, deletion */
    users: UserService
    /** preHandler: answers 401 unless the request carries a live session, then sets `request.session` */
    requireSession: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /**
     * preHandler, after requireSession: 403 unless the user is an admin (as the database says now) with
     * two-factor authentication on where the instance requires it
     */
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    settings: SettingsRepository
  }
  interface FastifyRequest {
    /** the session's token and its user as the database has it now */
    session?: { token: string; user: User }
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+)$/

/** The session token of a request: `Authorization: Bearer` (API clients) or the session cookie (the SPA). */
export function readToken(request: FastifyRequest, cookieName: string): string | undefined {
  const header = request.headers.authorization
  if (header) return BEARER.exec(header)?.[1]
  return request.cookies[cookieName] || undefined
}

export default fp(
  async (app, { config }: { config: Config }) => {
    const store = app.redis && { redis: app.redis, keyPrefix: config.redisKeyPrefix }
    const limiter = new LoginLimiter(config.loginLimits, store)
    const registrations = new RegistrationLimiter(config.registrationLimits, store)
    const users = new UserRepository(app.db)
    const twoFactor = new TwoFactor(new TwoFactorRepository(app.db), store)
    const tokens = new AccountTokenRepository(app.db)
    const audit = new AuditLog(new AuditRepository(app.db), (userId) => users.stampLogin(userId))
    app.decorate('audit', audit)
    app.decorate('twoFactor', twoFactor)
    const verification = new EmailVerification(users, tokens, app.outbox, audit, config.mail.publicUrl, store)
    app.decorate('emailVerification', verification)
    app.decorate(
      'auth',
      new AuthService({
        users,
        sessions: app.sessions,
        limiter,
        registrations,
        twoFactor,
        tokens,
        audit,
        verification,
        verificationRequired: config.mail.verification === 'required',
        countLogin: (result) => app.metrics.logins.inc({ result }),
      }),
    )
    app.decorate('users', new UserService(users, app.sessions))
    app.decorateRequest('session', undefined)
    app.decorate('requireSession', async (request: FastifyRequest) => {
      const token = readToken(request, config.session.cookieName)
      const session = token && (await app.sessions.touch(token))
      if (!token || !session) throw notLoggedIn()
      // a deleted or disabled user's sessions were ended when that happened; this holds even if one slipped by
      const user = await app.users.find(session.user.id)
      if (!user || user.disabled) throw notLoggedIn()
      request.session = { token, user }
    })
    const settings = new SettingsRepository(app.db)
    app.decorate('settings', settings)
    // ASVS 5.0 V8.2.1: function-level access checked on the server, from the database, on every request
    app.decorate('requireAdmin', async (request: FastifyRequest) => {
      const user = request.session?.user
      if (!user?.admin) throw new ApiError(403, 'Only an admin may do this')
      if ((await settings.read()).require_two_factor_for_admins && !(await twoFactor.isEnabled(user.id)))
        throw new ApiError(403, TWO_FACTOR_REQUIRED_FOR_ADMINS)
    })
  },
  { name: 'auth', dependencies: ['metrics', 'mail', 'database', 'sessions', '@fastify/cookie'] },
)
