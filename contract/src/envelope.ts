import { Type, type TSchema } from 'typebox'

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

export const AccessTokenSchema = Type.Object({ access_token: Type.String() })

export const UserSchema = Type.Object({
  id: Type.String({ description: 'bigint, as a string so no precision is lost' }),
  email: Type.String(),
  admin: Type.Boolean(),
  confirmed: Type.Boolean(),
  created_on: Type.String({ format: 'date-time' }),
})
