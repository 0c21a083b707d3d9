import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  ADMIN_PAGE_MAX,
  AdminActionParamsSchema,
  AdminUserParamsSchema,
  AdminUsersPageSchema,
  AdminUsersQuerySchema,
  AuditEventSchema,
  AuditQuerySchema,
  InstanceSettingsSchema,
  MessageErrorResponseSchema,
  Ok,
} from '@chat/contract'
import { Type } from 'typebox'
import { invalidFields } from '../http/api-error.ts'
import { UserRepository } from '../users/user-repository.ts'
import { AdminService } from './admin-service.ts'

const refusals = {
  401: MessageErrorResponseSchema,
  403: MessageErrorResponseSchema,
  404: MessageErrorResponseSchema,
  409: MessageErrorResponseSchema,
}

/** A page's size from the query: the default when absent, never over ADMIN_PAGE_MAX (400 past it). */
function pageSize(limit: string | undefined, fallback: number): number {
  const size = limit === undefined ? fallback : Number(limit)
  if (size < 1 || size > ADMIN_PAGE_MAX) throw invalidFields({ limit: [`Between 1 and ${ADMIN_PAGE_MAX}.`] })
  return size
}

/** `/api/v1.0/admin/*`: the admin console's API, for admins only (checked on every request). */
const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const admin = new AdminService(
    new UserRepository(app.db),
    app.users,
    app.sessions,
    app.settings,
    app.audit,
    (userId) => app.twoFactor.isEnabled(userId),
  )
  app.addHook('preHandler', app.requireSession)
  app.addHook('preHandler', app.requireAdmin)

  app.get(
    '/users',
    {
      schema: {
        summary: 'Users whose email contains q, a page at a time',
        querystring: AdminUsersQuerySchema,
        response: { 200: Ok(AdminUsersPageSchema), ...refusals },
      },
    },
    async (request) => {
      const { q = '', offset, limit } = request.query
      const page = { offset: Number(offset ?? 0), limit: pageSize(limit, 25) }
      return { valid: true as const, data: await admin.listUsers(q, page.offset, page.limit) }
    },
  )

  app.post(
    '/users/:id/:action',
    {
      schema: {
        summary: 'disable, enable, promote, demote, or log out a user (each ends their sessions but enable)',
        params: AdminActionParamsSchema,
        response: { 200: Ok(Type.String()), ...refusals },
      },
    },
    async (request) => {
      const { id, action } = request.params
      await admin.act(request.session!.user, id, action, request.ip)
      return { valid: true as const, data: 'Done.' }
    },
  )

  app.delete(
    '/users/:id',
    {
      schema: {
        summary: 'Delete a user: their personal data goes, their messages stay, from a deleted user',
        params: AdminUserParamsSchema,
        response: { 200: Ok(Type.String()), ...refusals },
      },
    },
    async (request) => {
      await admin.deleteUser(request.session!.user, request.params.id, request.ip)
      return { valid: true as const, data: 'Deleted.' }
    },
  )

  app.get(
    '/audit',
    {
      schema: {
        summary: 'The audit log, newest first; filter by event or user, page back with before',
        querystring: AuditQuerySchema,
        response: { 200: Ok(Type.Array(AuditEventSchema)), ...refusals },
      },
    },
    async (request) => {
      const { event, user_id: userId, before, limit } = request.query
      const entries = await app.audit.list({ event, userId, before, limit: pageSize(limit, 50) })
      return { valid: true as const, data: entries }
    },
  )

  app.get(
    '/settings',
    {
      schema: {
        summary: "The instance's settings",
        response: { 200: Ok(InstanceSettingsSchema), ...refusals },
      },
    },
    async () => ({ valid: true as const, data: await admin.readSettings() }),
  )

  app.put(
    '/settings',
    {
      schema: {
        summary: "Change the instance's settings",
        body: InstanceSettingsSchema,
        response: { 200: Ok(InstanceSettingsSchema), ...refusals },
      },
    },
    async (request) => ({
      valid: true as const,
      data: await admin.changeSettings(request.session!.user, request.body, request.ip),
    }),
  )
}

export default adminRoutes
