import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  FieldErrorsResponseSchema,
  MessageErrorResponseSchema,
  NoticeSchema,
  Ok,
  PasswordResetRequestSchema,
  PasswordResetSchema,
} from '@chat/contract'
import type { Config } from '../config/config.ts'
import { UserRepository } from '../users/user-repository.ts'
import { AccountTokenRepository } from './account-token-repository.ts'
import { PasswordReset, RESET_REQUESTED } from './password-reset.ts'

/** `/api/v1.0/user/*` around an account's life: a forgotten password. */
const accountRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const store = app.redis && { redis: app.redis, keyPrefix: config.redisKeyPrefix }
  const passwordReset = new PasswordReset(
    new UserRepository(app.db),
    app.users,
    new AccountTokenRepository(app.db),
    app.outbox,
    config.mail.publicUrl,
    store,
  )
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
  })

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
      await passwordReset.complete(request.body.token, request.body.password)
      return { valid: true as const, data: 'Your password is changed. Log in with it.' }
    },
  )
}

export default accountRoutes
