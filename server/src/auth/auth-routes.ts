import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  AccessTokenSchema,
  FieldErrorsResponseSchema,
  EmailConfirmedSchema,
  LoginRefusedSchema,
  MailedTokenSchema,
  NoticeSchema,
  REGISTRATION_MAILED,
  LoginRequestSchema,
  MessageErrorResponseSchema,
  SECOND_FACTOR_NEEDED,
  SecondFactorLoginSchema,
  Ok,
  RegisterRequestSchema,
  SessionsEndedSchema,
  UserSchema,
} from '@chat/contract'
import { Type } from 'typebox'
import type { Config } from '../config/config.ts'
import { ApiError } from '../http/api-error.ts'
import type { User } from '../users/user-repository.ts'
import { KNOWN_CLIENT_SECONDS } from './login-limiter.ts'

const Unauthorized = { 401: MessageErrorResponseSchema }

/** The logged-in user as `GET /me` (and a profile change) answers it. */
export const userView = ({ id, email, displayName, admin, confirmed, createdOn }: User) => ({
  id,
  email,
  display_name: displayName,
  admin,
  confirmed,
  created_on: createdOn.toISOString(),
})

/** `/api/v1.0/user/*`: the original's login, plus what a product needs around it. */
const authRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { cookieName, cookieSecure, absoluteTimeoutMs } = config.session
  // remembers a browser that logged in, so guesses from elsewhere never lock it out (see LoginLimiter)
  const deviceCookieName = `${cookieSecure ? '__Host-' : ''}device`
  // HttpOnly: page script never sees them; SameSite=Strict: no other site can make the browser send them;
  // Secure in production, and then `__Host-` names: no subdomain can set or shadow them (ASVS 3.3.1, 3.3.2).
  const cookieOptions = { httpOnly: true, sameSite: 'strict', secure: cookieSecure, path: '/' } as const

  function startSession(reply: FastifyReply, token: string) {
    reply.setCookie(cookieName, token, { ...cookieOptions, maxAge: Math.floor(absoluteTimeoutMs / 1000) })
    return { valid: true as const, data: { access_token: token } }
  }

  const endSession = (reply: FastifyReply, ended: number) => {
    reply.clearCookie(cookieName, { path: '/' })
    return { valid: true as const, data: { sessions_ended: ended } }
  }

  app.post(
    '/auth',
    {
      schema: {
        summary: 'Log in (the original contract)',
        body: LoginRequestSchema,
        response: {
          200: Ok(AccessTokenSchema),
          400: FieldErrorsResponseSchema,
          401: LoginRefusedSchema,
          403: MessageErrorResponseSchema,
          429: MessageErrorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const deviceToken = request.cookies[deviceCookieName] || undefined
      const login = await app.auth.login(request.body, {
        address: request.ip,
        deviceToken,
        userAgent: request.headers['user-agent'] ?? '',
      })
      const rememberDevice = () =>
        reply.setCookie(deviceCookieName, login.deviceToken, {
          ...cookieOptions,
          maxAge: KNOWN_CLIENT_SECONDS,
        })
      // the password was right and a second factor is on: a 401 as the original's clients know it,
      // with the token a second-factor-aware client finishes the login with
      if ('secondFactorToken' in login) {
        rememberDevice()
        return reply.code(401).send({
          valid: false,
          data: SECOND_FACTOR_NEEDED,
          second_factor_token: login.secondFactorToken,
        })
      }
      const answer = startSession(reply, login.session) // the session cookie first, as before
      rememberDevice()
      return answer
    },
  )

  const clientOf = (request: FastifyRequest) => ({
    address: request.ip,
    userAgent: request.headers['user-agent'] ?? '',
  })

  app.post(
    '/auth/second-factor',
    {
      schema: {
        summary: 'Finish a login with a code from the authenticator app or a recovery code',
        body: SecondFactorLoginSchema,
        response: {
          200: Ok(AccessTokenSchema),
          400: FieldErrorsResponseSchema,
          401: MessageErrorResponseSchema,
          403: MessageErrorResponseSchema,
          429: MessageErrorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const session = await app.auth.completeWithSecondFactor(
        request.body.token,
        request.body.code,
        clientOf(request),
      )
      return startSession(reply, session)
    },
  )

  app.post(
    '/register',
    {
      schema: {
        summary:
          'Create an account: 201 and logged in, or (EMAIL_VERIFICATION=required) 202 and a link mailed to confirm the address, new or taken alike',
        body: RegisterRequestSchema,
        response: {
          201: Ok(AccessTokenSchema),
          202: Ok(NoticeSchema),
          400: FieldErrorsResponseSchema,
          409: FieldErrorsResponseSchema,
          429: MessageErrorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { session } = await app.auth.register(request.body, clientOf(request))
      if (!session) return reply.code(202).send({ valid: true, data: REGISTRATION_MAILED })
      return reply.code(201).send(startSession(reply, session))
    },
  )

  app.post(
    '/verify-email',
    {
      schema: {
        summary: "Confirm an address with its mailed link's token; logs in (unless a second factor is on)",
        body: MailedTokenSchema,
        response: {
          200: Ok(EmailConfirmedSchema),
          400: MessageErrorResponseSchema,
          403: MessageErrorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const session = await app.auth.confirmEmail(request.body.token, clientOf(request))
      if (!session) return { valid: true as const, data: { confirmed: true as const } }
      return {
        valid: true as const,
        data: { confirmed: true as const, ...startSession(reply, session).data },
      }
    },
  )

  app.get(
    '/me',
    {
      schema: { summary: 'The logged-in user', response: { 200: Ok(UserSchema), ...Unauthorized } },
      preHandler: app.requireSession,
    },
    async (request) => {
      return { valid: true as const, data: userView(request.session!.user) }
    },
  )

  // nginx's auth_request for /db: 204 lets an admin through to Adminer, anything else is a 401
  app.get(
    '/admin-check',
    {
      schema: {
        summary: 'Is this session an admin? (for the proxy)',
        response: { 204: Type.Null(), 403: MessageErrorResponseSchema, ...Unauthorized },
      },
      preHandler: app.requireSession,
    },
    async (request, reply) => {
      if (!request.session!.user.admin) throw new ApiError(401, 'Only an admin may use the database console')
      await app.requireAdmin(request, reply) // 403 where the instance requires 2FA of admins and it is off
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/logout',
    {
      schema: { summary: 'End this session', response: { 200: Ok(SessionsEndedSchema), ...Unauthorized } },
      preHandler: app.requireSession,
    },
    async (request, reply) => {
      const { token, user } = request.session!
      const ended = (await app.sessions.revoke(token)) ? 1 : 0
      await app.audit.record({ event: 'logged_out', actor: user, target: user, address: request.ip })
      return endSession(reply, ended)
    },
  )

  app.post(
    '/logout-all',
    {
      schema: {
        summary: "End every one of this user's sessions",
        response: { 200: Ok(SessionsEndedSchema), ...Unauthorized },
      },
      preHandler: app.requireSession,
    },
    async (request, reply) => {
      const { user } = request.session!
      const ended = await app.sessions.revokeAllForUser(user.id)
      await app.audit.record({
        event: 'logged_out_everywhere',
        actor: user,
        target: user,
        address: request.ip,
        detail: `${ended} session(s)`,
      })
      return endSession(reply, ended)
    },
  )
}

export default authRoutes
