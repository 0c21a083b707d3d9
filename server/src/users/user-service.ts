import { displayNameProblems } from '@chat/contract'
import { invalidFields } from '../http/api-error.ts'
import type { SessionStore } from '../sessions/session-store.ts'
import { hashPassword } from './password-hasher.ts'
import type { User, UserRepository } from './user-repository.ts'

/**
 * Changes to an account's authority or credentials. Each one ends every session of the user at once
 * (ASVS 7.4.3, 7.4.5): sessions carry no authority of their own, and their sockets close with 4001 on
 * every process through the session store's revocation event. Each returns false for an unknown user.
 */
export class UserService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionStore,
  ) {}

  /** The account as the database says now: authority is never taken from a session (ASVS 8.3.x). */
  find(id: string): Promise<User | undefined> {
    return this.users.findById(id)
  }

  /** A new display name, trimmed; 400 with what is wrong. Sessions stay: a name carries no authority. */
  async rename(id: string, name: string): Promise<string> {
    const displayName = name.trim()
    const problems = displayNameProblems(displayName)
    if (problems.length > 0) throw invalidFields({ display_name: problems })
    await this.users.update(id, { displayName })
    return displayName
  }

  setAdmin(id: string, admin: boolean): Promise<boolean> {
    return this.changeAndEndSessions(id, () => this.users.update(id, { admin }))
  }

  setDisabled(id: string, disabled: boolean): Promise<boolean> {
    return this.changeAndEndSessions(id, () => this.users.update(id, { disabled }))
  }

  async changePassword(id: string, password: string): Promise<boolean> {
    const passwordHash = await hashPassword(password)
    return this.changeAndEndSessions(id, () => this.users.update(id, { passwordHash }))
  }

  /** Erases the account (see UserRepository.erase); its messages stay, from a deleted user. */
  delete(id: string): Promise<boolean> {
    return this.changeAndEndSessions(id, () => this.users.erase(id))
  }

  private async changeAndEndSessions(id: string, change: () => Promise<boolean>): Promise<boolean> {
    if (!(await change())) return false
    await this.sessions.revokeAllForUser(id)
    return true
  }
}
