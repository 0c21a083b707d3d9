import { Type, type Static, type TSchema } from 'typebox'

/**
 * Every JSON answer of the API is `{"valid": boolean, "data": ...}`, the original's envelope, so one
 * client-side check covers every endpoint.
 */
export const Ok = <T extends TSchema>(data: T) => Type.Object({ valid: Type.Literal(true), data })

export const FieldErrorsResponseSchema = Type.Object({
  valid: Type.Literal(false),
  data: Type.Record(Type.String(), Type.Array(Type.String())),
})

export const MessageErrorResponseSchema = Type.Object({
  valid: Type.Literal(false),
  data: Type.String(),
})

/** `GET /api`: the original's greeting. */
export const GreetingSchema = Type.Object({ hello: Type.Literal('world') })

/** The `data` of a login or registration: the original's answer. */
export const AccessTokenSchema = Type.Object({ access_token: Type.String() })
export type AccessToken = Static<typeof AccessTokenSchema>

/** The `data` of `GET /api/v1.0/user/me`. */
export const UserSchema = Type.Object({
  id: Type.String({ description: 'bigint, as a string so no precision is lost' }),
  email: Type.String(),
  display_name: Type.String(),
  admin: Type.Boolean(),
  confirmed: Type.Boolean(),
  created_on: Type.String({ format: 'date-time' }),
})
export type User = Static<typeof UserSchema>

/** The `data` of a logout: how many sessions it ended. */
export const SessionsEndedSchema = Type.Object({ sessions_ended: Type.Integer({ minimum: 0 }) })
export type SessionsEnded = Static<typeof SessionsEndedSchema>
