import { hashPassword, verifyPassword } from './password-hasher.ts'
import type { UserRepository } from './user-repository.ts'

export type AdminSeedResult = 'created' | 'updated' | 'unchanged'

/**
 * Makes the configured admin exist, be an admin and have the configured password. Idempotent and safe for
 * processes starting together: the insert ignores a conflict and the loser then checks the winner's row.
 */
export async function ensureAdmin(
  users: UserRepository,
  admin: { email: string; password: string },
): Promise<AdminSeedResult> {
  const existing = await users.findByEmail(admin.email)
  if (!existing) {
    const created = await users.insert({
      email: admin.email,
      passwordHash: await hashPassword(admin.password),
      admin: true,
      confirmed: true, // the operator named this address: nothing to prove
    })
    if (created) return 'created'
    return ensureAdmin(users, admin)
  }
  const { valid, needsRehash } = await verifyPassword(existing.passwordHash, admin.password)
  if (valid && !needsRehash && existing.admin && existing.confirmed) return 'unchanged'
  await users.update(existing.id, {
    admin: true,
    confirmed: true,
    passwordHash: valid && !needsRehash ? undefined : await hashPassword(admin.password),
  })
  return 'updated'
}
