import type { AccountDeletion } from '@chat/contract'
import type { AuditLog } from '../audit/audit-log.ts'
import { invalidFields } from '../http/api-error.ts'
import type { TwoFactor } from '../two-factor/two-factor-service.ts'
import { requireCurrentPassword } from '../users/password-policy.ts'
import type { User } from '../users/user-repository.ts'
import type { UserService } from '../users/user-service.ts'

/**
 * A user deletes their own account: the password is asked again, and a code when 2FA is on (ASVS 5.0
 * V6.2.3: re-authentication for a sensitive change). The account's personal data goes, its sessions end,
 * its messages stay under "a deleted user".
 */
export class AccountDeleter {
  constructor(
    private readonly accounts: UserService,
    private readonly twoFactor: TwoFactor,
    private readonly audit: AuditLog,
  ) {}

  async delete(user: User, { password, code }: AccountDeletion, address: string): Promise<void> {
    await requireCurrentPassword(user.passwordHash, password)
    if (await this.twoFactor.isEnabled(user.id)) {
      if (!code)
        throw invalidFields({ code: ['Enter a code from your authenticator app, or a recovery code.'] })
      await this.twoFactor.verify(user.id, code)
    }
    await this.audit.record({ event: 'account_deleted', actor: user, target: user, address })
    await this.accounts.delete(user.id)
  }
}
