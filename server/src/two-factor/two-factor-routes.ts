import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  FieldErrorsResponseSchema,
  MessageErrorResponseSchema,
  Ok,
  RecoveryCodesSchema,
  TwoFactorCodeSchema,
  TwoFactorDisableSchema,
  TwoFactorSetupRequestSchema,
  TwoFactorSetupSchema,
  TwoFactorStatusSchema,
} from '@chat/contract'

const refusals = {
  400: FieldErrorsResponseSchema,
  401: MessageErrorResponseSchema,
  409: MessageErrorResponseSchema,
  429: MessageErrorResponseSchema,
}

/** `/api/v1.0/user/2fa/*`: the logged-in user's second factor. */
const twoFactorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('preHandler', app.requireSession)

  app.get(
    '/',
    { schema: { summary: 'Is two-factor authentication on?', response: { 200: Ok(TwoFactorStatusSchema) } } },
    async (request) => ({ valid: true as const, data: await app.twoFactor.status(request.session!.user.id) }),
  )

  app.post(
    '/setup',
    {
      schema: {
        summary: 'Start: a new secret for the authenticator app (the password is asked again)',
        body: TwoFactorSetupRequestSchema,
        response: { 200: Ok(TwoFactorSetupSchema), ...refusals },
      },
    },
    async (request) => ({
      valid: true as const,
      data: await app.twoFactor.begin(request.session!.user, request.body.password),
    }),
  )

  app.post(
    '/enable',
    {
      schema: {
        summary: 'Turn it on with a first code from the app; answers the recovery codes, shown once',
        body: TwoFactorCodeSchema,
        response: { 200: Ok(RecoveryCodesSchema), ...refusals },
      },
    },
    async (request) => {
      const { user } = request.session!
      const codes = await app.twoFactor.enable(user, request.body.code)
      await app.audit.record({ event: 'two_factor_enabled', actor: user, target: user, address: request.ip })
      return { valid: true as const, data: { recovery_codes: codes } }
    },
  )

  app.post(
    '/recovery-codes',
    {
      schema: {
        summary: 'New recovery codes (a current code is asked); the old ones stop working',
        body: TwoFactorCodeSchema,
        response: { 200: Ok(RecoveryCodesSchema), ...refusals },
      },
    },
    async (request) => ({
      valid: true as const,
      data: {
        recovery_codes: await app.twoFactor.newRecoveryCodes(request.session!.user, request.body.code),
      },
    }),
  )

  app.post(
    '/disable',
    {
      schema: {
        summary: 'Turn it off (the password and a current code are asked)',
        body: TwoFactorDisableSchema,
        response: { 200: Ok(TwoFactorStatusSchema), ...refusals },
      },
    },
    async (request) => {
      const { user } = request.session!
      await app.twoFactor.disable(user, request.body.password, request.body.code)
      await app.audit.record({ event: 'two_factor_disabled', actor: user, target: user, address: request.ip })
      return { valid: true as const, data: await app.twoFactor.status(user.id) }
    },
  )
}

export default twoFactorRoutes
