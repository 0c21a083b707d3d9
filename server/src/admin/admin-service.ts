import type { AdminAction, AdminUsersPage, AuditEventName, InstanceSettings } from '@chat/contract'
import type { AuditLog } from '../audit/audit-log.ts'
import { ApiError } from '../http/api-error.ts'
import type { SessionStore } from '../sessions/session-store.ts'
import type { User, UserRepository } from '../users/user-repository.ts'
import type { UserService } from '../users/user-service.ts'
import type { SettingsRepository } from './settings-repository.ts'

const AUDITED: Record<AdminAction, AuditEventName> = {
  disable: 'admin_disabled_user',
  enable: 'admin_enabled_user',
  promote: 'admin_promoted_user',
  demote: 'admin_demoted_user',
  logout: 'admin_logged_out_user',
}

/** What the admin console does: every action checked on the server and written to the audit log. */
export class AdminService {
  constructor(
    private readonly users: UserRepository,
    private readonly accounts: UserService,
    private readonly sessions: SessionStore,
    private readonly settings: SettingsRepository,
    private readonly audit: AuditLog,
    private readonly hasTwoFactor: (userId: string) => Promise<boolean>,
  ) {}

  async listUsers(query: string, offset: number, limit: number): Promise<AdminUsersPage> {
    const { users, total } = await this.users.search(query, offset, limit)
    return {
      total,
      users: users.map((user) => ({
        id: user.id,
        email: user.email,
        admin: user.admin,
        disabled: user.disabled,
        confirmed: user.confirmed,
        two_factor: user.twoFactor,
        created_on: user.createdOn.toISOString(),
        last_login: user.lastLoginOn?.toISOString() ?? null,
      })),
    }
  }

  /**
   * Disabling, demoting and logging out end the user's sessions and close their sockets (4001). An admin
   * cannot disable, demote or delete themselves, so the console cannot lock its last admin out.
   */
  async act(admin: User, targetId: string, action: AdminAction, address: string): Promise<void> {
    const target = await this.target(
      admin,
      targetId,
      action === 'logout' || action === 'enable' || action === 'promote',
    )
    switch (action) {
      case 'disable':
        await this.accounts.setDisabled(target.id, true)
        break
      case 'enable':
        await this.accounts.setDisabled(target.id, false)
        break
      case 'promote':
        await this.accounts.setAdmin(target.id, true)
        break
      case 'demote':
        await this.accounts.setAdmin(target.id, false)
        break
      case 'logout':
        await this.sessions.revokeAllForUser(target.id)
        break
    }
    await this.audit.record({ event: AUDITED[action], actor: admin, target, address })
  }

  async deleteUser(admin: User, targetId: string, address: string): Promise<void> {
    const target = await this.target(admin, targetId, false)
    await this.audit.record({ event: 'admin_deleted_user', actor: admin, target, address })
    await this.accounts.delete(target.id)
  }

  readSettings(): Promise<InstanceSettings> {
    return this.settings.read()
  }

  async changeSettings(admin: User, settings: InstanceSettings, address: string): Promise<InstanceSettings> {
    // requiring 2FA of admins would shut out the admin who asks for it without having it
    if (settings.require_two_factor_for_admins && !(await this.hasTwoFactor(admin.id)))
      throw new ApiError(
        409,
        'Turn on two-factor authentication for yourself first, then require it of admins',
      )
    await this.settings.write(settings)
    await this.audit.record({
      event: 'admin_changed_settings',
      actor: admin,
      address,
      detail: JSON.stringify(settings),
    })
    return settings
  }

  private async target(admin: User, targetId: string, selfAllowed: boolean): Promise<User> {
    if (!selfAllowed && targetId === admin.id)
      throw new ApiError(409, 'You cannot do that to your own account; ask another admin')
    const target = await this.users.findById(targetId)
    if (!target || target.deleted) throw new ApiError(404, 'There is no user with that id')
    return target
  }
}
