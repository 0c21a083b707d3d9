import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDatabase, type Db } from '../db/database.ts'
import { migrate } from '../db/migrator.ts'
import { createTestDatabase } from '../test/backends.ts'
import { passlibHash as originalHash } from '../test/passlib.ts'
import { ensureAdmin } from './admin-seed.ts'
import { hashPassword, verifyPassword } from './password-hasher.ts'
import { UserRepository } from './user-repository.ts'

const admin = { email: 'boss@example.org', password: 'first-admin-password' }

const passlibHash = (password: string) => originalHash(password, 1000)

describe('ensureAdmin on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db
  let users: UserRepository
  beforeEach(async () => {
    database = await createTestDatabase()
    db = createDatabase({ kind: 'postgres', url: database.url })
    await migrate(db, 'latest')
    users = new UserRepository(db)
  })
  afterEach(async () => {
    await db?.destroy()
    await database?.drop()
  })

  const allRows = () => db.selectFrom('users').select(['email', 'is_admin']).execute()
  const passwordOf = async (email: string) => (await users.findByEmail(email))!.passwordHash

  it('creates the admin, then leaves it alone, then updates it when the password changes', async () => {
    expect(await ensureAdmin(users, admin)).toBe('created')
    const created = await users.findByEmail(admin.email)
    expect(created).toMatchObject({ email: admin.email, admin: true })
    expect(await verifyPassword(created!.passwordHash, admin.password)).toEqual({
      valid: true,
      needsRehash: false,
    })

    expect(await ensureAdmin(users, admin)).toBe('unchanged')
    expect(await passwordOf(admin.email)).toBe(created!.passwordHash)

    const changed = { ...admin, password: 'second-admin-password' }
    expect(await ensureAdmin(users, changed)).toBe('updated')
    const hash = await passwordOf(admin.email)
    expect((await verifyPassword(hash, changed.password)).valid).toBe(true)
    expect((await verifyPassword(hash, admin.password)).valid).toBe(false)
    expect(await ensureAdmin(users, changed)).toBe('unchanged')
    expect(await allRows()).toEqual([{ email: admin.email, is_admin: true }])
  })

  it('makes an existing non-admin user of that email, in another case, the admin', async () => {
    const existing = await users.insert({
      email: 'Boss@Example.ORG',
      passwordHash: await hashPassword('the-users-own-password'),
    })
    expect(existing?.admin).toBe(false)

    expect(await ensureAdmin(users, admin)).toBe('updated')
    const now = await users.findByEmail(admin.email)
    expect(now).toMatchObject({ id: existing!.id, admin: true })
    expect((await verifyPassword(now!.passwordHash, admin.password)).valid).toBe(true)
    expect(await allRows()).toHaveLength(1)
  })

  it('makes a user with the right password the admin without rehashing it', async () => {
    const existing = await users.insert({
      email: admin.email,
      passwordHash: await hashPassword(admin.password),
    })
    expect(await ensureAdmin(users, admin)).toBe('updated')
    expect(await users.findByEmail(admin.email)).toMatchObject({
      admin: true,
      passwordHash: existing!.passwordHash,
    })
  })

  it("replaces the original's passlib hash of the right password with argon2id", async () => {
    await users.insert({ email: admin.email, passwordHash: passlibHash(admin.password), admin: true })
    expect(await ensureAdmin(users, admin)).toBe('updated')
    const hash = await passwordOf(admin.email)
    expect(hash.startsWith('$argon2id$')).toBe(true)
    expect(await verifyPassword(hash, admin.password)).toEqual({ valid: true, needsRehash: false })
  })

  it('leaves exactly one admin when five processes seed an empty table at once, and none fails', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => ensureAdmin(users, admin)))
    const failures = outcomes.filter((outcome) => outcome.status === 'rejected')
    expect(failures).toEqual([])
    const results = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<string>).value)
    expect(results.filter((result) => result === 'created')).toHaveLength(1)
    expect(results.filter((result) => result !== 'created')).toEqual(Array(4).fill('unchanged'))
    expect(await allRows()).toEqual([{ email: admin.email, is_admin: true }])
  })
})
