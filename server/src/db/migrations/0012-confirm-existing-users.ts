import { sql, type Kysely } from 'kysely'

// Addresses are confirmed by a mailed link from now on; accounts made before could not be, and must not be
// shut out when EMAIL_VERIFICATION becomes required, so they count as confirmed.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update users set confirmed = true where deleted_on is null`.execute(db)
}

// Which ones were confirmed before cannot be told apart afterwards: down leaves them as they are.
export async function down(): Promise<void> {}
