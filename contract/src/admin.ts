import { Type, type Static } from 'typebox'
import { AUDIT_EVENTS } from './accounts.ts'

/** A user as the admin console lists them. */
export const AdminUserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  admin: Type.Boolean(),
  disabled: Type.Boolean(),
  confirmed: Type.Boolean(),
  two_factor: Type.Boolean(),
  created_on: Type.String({ format: 'date-time' }),
  last_login: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
})
export type AdminUser = Static<typeof AdminUserSchema>

export const ADMIN_PAGE_MAX = 100

/** A whole number in a query string (the API converts no types: a query's values are strings). */
const QueryCount = (description: string) =>
  Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description }))

/** `GET /api/v1.0/admin/users`: a page of users whose email contains `q`, by email. */
export const AdminUsersQuerySchema = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 64 })),
  offset: QueryCount('users to skip; default 0'),
  limit: QueryCount(`users per page, at most ${ADMIN_PAGE_MAX}; default 25`),
})
export const AdminUsersPageSchema = Type.Object({
  users: Type.Array(AdminUserSchema),
  total: Type.Integer({ minimum: 0 }),
})
export type AdminUsersPage = Static<typeof AdminUsersPageSchema>

/** What an admin may do to an account (`POST /api/v1.0/admin/users/:id/<action>`). */
export const ADMIN_ACTIONS = ['disable', 'enable', 'promote', 'demote', 'logout'] as const
export type AdminAction = (typeof ADMIN_ACTIONS)[number]
export const AdminUserParamsSchema = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,18}$' }) })
export const AdminActionParamsSchema = Type.Object({
  id: Type.String({ pattern: '^[1-9][0-9]{0,18}$' }),
  action: Type.Enum(ADMIN_ACTIONS),
})

/** `GET /api/v1.0/admin/audit`: newest first, filtered; `before` an id pages back. */
export const AuditQuerySchema = Type.Object({
  event: Type.Optional(Type.Enum(AUDIT_EVENTS)),
  user_id: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$' })),
  before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$' })),
  limit: QueryCount(`entries per page, at most ${ADMIN_PAGE_MAX}; default 50`),
})

/** The instance's settings an admin changes (`GET`/`PUT /api/v1.0/admin/settings`). */
export const InstanceSettingsSchema = Type.Object({
  require_two_factor_for_admins: Type.Boolean(),
})
export type InstanceSettings = Static<typeof InstanceSettingsSchema>

export const TWO_FACTOR_REQUIRED_FOR_ADMINS =
  'Admins must use two-factor authentication here: turn it on in your settings to use the admin console.'
