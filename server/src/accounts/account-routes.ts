import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  FieldErrorsResponseSchema,
  MessageErrorResponseSchema,
  NoticeSchema,
  Ok,
  AccountDeletionSchema,
  EMAIL_CHANGE_MAILED,
  EMAIL_CHANGED,
  EmailChangeSchema,
  MailedTokenSchema,
  VERIFICATION_RESENT,
  VerificationResendSchema,
  ACCOUNT_DELETED,
  PasswordChangeSchema,
  ProfileChangeSchema,
  UserSchema,
  PasswordResetRequestSchema,
  PasswordResetSchema,
  SessionIdParamsSchema,
  SessionInfoSchema,
  SessionsEndedSchema,
} from '@chat/contract'
import { Type } from 'typebox'
import { ApiError } from '../http/api-error.ts'
import { userView } from '../auth/auth-routes.ts'
import { tokenHash } from '../sessions/session-store.ts'
import type { Config } from '../config/config.ts'
import { UserRepository } from '../users/user-repository.ts'
import { AccountTokenRepository } from './account-token-repository.ts'
import { describeDevice } from './device.ts'
import { PasswordChanger } from './password-change.ts'
import { AccountDeleter } from './account-deletion.ts'
import { PasswordReset, RESET_REQUESTED } from './password-reset.ts'

/** `/api/v1.0/user/*` around an account's life: its password, forgotten or changed, and its open sessions. */
const accountRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const store = app.redis && { redis: app.redis, keyPrefix: config.redisKeyPrefix }
  const users = new UserRepository(app.db)
  const passwordReset = new PasswordReset(
    users,
    app.users,
    new AccountTokenRepository(app.db),
    app.outbox,
    config.mail.publicUrl,
    app.audit,
    store,
  )
  const passwordChanger = new PasswordChanger(users, app.sessions, store)
  const accountDeleter = new AccountDeleter(app.users, app.twoFactor, app.audit)

  app.post(
    '/password-reset',
    {
      schema: {
        summary: 'Mail a link to set a new password (the same answer whether or not the account exists)',
        body: PasswordResetRequestSchema,
        response: { 202: Ok(NoticeSchema), 400: FieldErrorsResponseSchema, 429: MessageErrorResponseSchema },
      },
    },
    async (request, reply) => {
      await passwordReset.request(request.body.email, request.ip)
      return reply.code(202).send({ valid: true, data: RESET_REQUESTED })
    },
  )

  app.post(
    '/password-reset/confirm',
    {
      schema: {
        summary: "Set a new password with a reset link's token; ends every session of the account",
        body: PasswordResetSchema,
        response: {
          200: Ok(NoticeSchema),
          400: { anyOf: [FieldErrorsResponseSchema, MessageErrorResponseSchema] },
        },
      },
    },
    async (request) => {
      await passwordReset.complete(request.body.token, request.body.password, request.ip)
      return { valid: true as const, data: 'Your password is changed. Log in with it.' }
    },
  )

  app.post(
    '/password',
    {
      schema: {
        summary: 'Change your password (the current one is asked); other sessions may be ended with it',
        body: PasswordChangeSchema,
        response: {
          200: Ok(SessionsEndedSchema),
          400: FieldErrorsResponseSchema,
          401: MessageErrorResponseSchema,
          429: MessageErrorResponseSchema,
        },
      },
      preHandler: app.requireSession,
    },
    async (request) => {
      const { user, token } = request.session!
      const ended = await passwordChanger.change(user, token, request.body)
      await app.audit.record({
        event: 'password_changed',
        actor: user,
        target: user,
        address: request.ip,
        detail: ended > 0 ? `ended ${ended} other session(s)` : undefined,
      })
      return { valid: true as const, data: { sessions_ended: ended } }
    },
  )

  app.post(
    '/verify-email/resend',
    {
      schema: {
        summary: 'Mail a new link to confirm an address (the same answer whatever the address)',
        body: VerificationResendSchema,
        response: { 202: Ok(NoticeSchema), 400: FieldErrorsResponseSchema, 429: MessageErrorResponseSchema },
      },
    },
    async (request, reply) => {
      await app.emailVerification.resend(request.body.email, request.ip)
      return reply.code(202).send({ valid: true, data: VERIFICATION_RESENT })
    },
  )

  app.post(
    '/email',
    {
      schema: {
        summary: 'Change your address: a link goes to the new one, which takes effect once opened',
        body: EmailChangeSchema,
        response: { 202: Ok(NoticeSchema), 400: FieldErrorsResponseSchema, 401: MessageErrorResponseSchema },
      },
      preHandler: app.requireSession,
    },
    async (request, reply) => {
      const { user } = request.session!
      await app.emailVerification.requestChange(user, request.body.new_email, request.body.password)
      return reply.code(202).send({ valid: true, data: EMAIL_CHANGE_MAILED })
    },
  )

  app.post(
    '/email/confirm',
    {
      schema: {
        summary: "Confirm a new address with its mailed link's token; the old address is told",
        body: MailedTokenSchema,
        response: { 200: Ok(NoticeSchema), 400: MessageErrorResponseSchema, 409: MessageErrorResponseSchema },
      },
    },
    async (request) => {
      await app.emailVerification.confirmChange(request.body.token, request.ip)
      return { valid: true as const, data: EMAIL_CHANGED }
    },
  )

  app.patch(
    '/profile',
    {
      schema: {
        summary: 'Change your display name (open chat connections show it from their next connection)',
        body: ProfileChangeSchema,
        response: { 200: Ok(UserSchema), 400: FieldErrorsResponseSchema, 401: MessageErrorResponseSchema },
      },
      preHandler: app.requireSession,
    },
    async (request) => {
      const { user } = request.session!
      const displayName = await app.users.rename(user.id, request.body.display_name)
      return { valid: true as const, data: userView({ ...user, displayName }) }
    },
  )

  app.post(
    '/delete-account',
    {
      schema: {
        summary:
          'Delete your account (password, and a code with 2FA); your messages stay, from a deleted user',
        body: AccountDeletionSchema,
        response: {
          200: Ok(NoticeSchema),
          400: FieldErrorsResponseSchema,
          401: MessageErrorResponseSchema,
          429: MessageErrorResponseSchema,
        },
      },
      preHandler: app.requireSession,
    },
    async (request, reply) => {
      await accountDeleter.delete(request.session!.user, request.body, request.ip)
      reply.clearCookie(config.session.cookieName, { path: '/' })
      return { valid: true as const, data: ACCOUNT_DELETED }
    },
  )

  const iso = (epochMs: number) => new Date(epochMs).toISOString()
  const Unauthorized = { 401: MessageErrorResponseSchema }

  // ASVS 5.0 V7.5.2: a user sees their active sessions and can end any of them.
  app.get(
    '/sessions',
    {
      schema: {
        summary: "The logged-in user's sessions, most recently used first",
        response: { 200: Ok(Type.Array(SessionInfoSchema)), ...Unauthorized },
      },
      preHandler: app.requireSession,
    },
    async (request) => {
      const { token, user } = request.session!
      const current = tokenHash(token)
      const sessions = await app.sessions.list(user.id)
      return {
        valid: true as const,
        data: sessions.map((session) => ({
          id: session.id,
          device: describeDevice(session.client.userAgent),
          user_agent: session.client.userAgent,
          address: session.client.address,
          created_on: iso(session.createdAt),
          last_used: iso(session.lastUsedAt),
          expires: iso(session.expiresAt),
          current: session.id === current,
        })),
      }
    },
  )

  app.delete(
    '/sessions/:id',
    {
      schema: {
        summary: 'End one of your sessions (its sockets close with 4001 on every process)',
        params: SessionIdParamsSchema,
        response: { 200: Ok(SessionsEndedSchema), 404: MessageErrorResponseSchema, ...Unauthorized },
      },
      preHandler: app.requireSession,
    },
    async (request) => {
      // only the user's own: another user's session id is "not found", as an unknown one is
      if (!(await app.sessions.revokeById(request.session!.user.id, request.params.id)))
        throw new ApiError(404, 'You have no session with that id (it may have ended already)')
      const { user } = request.session!
      await app.audit.record({ event: 'session_ended', actor: user, target: user, address: request.ip })
      return { valid: true as const, data: { sessions_ended: 1 } }
    },
  )
}

export default accountRoutes
