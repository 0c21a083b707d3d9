import { Migrator, NO_MIGRATIONS, type MigrationResultSet } from 'kysely'
import type { Db } from './database.ts'
import { migrations } from './migrations/index.ts'

export const MIGRATION_COMMANDS = ['latest', 'up', 'down', 'to', 'reset'] as const
export type MigrationCommand = (typeof MIGRATION_COMMANDS)[number]

// Kysely's Migrator takes a PostgreSQL advisory lock (pg_advisory_xact_lock) around each run and applies
// every step in one transaction, so processes that start together cannot race or half-apply a version.
export function createMigrator(db: Db): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } })
}

export class MigrationError extends Error {
  override name = 'MigrationError'
}

/** Runs one command; throws (so scripts exit non-zero) when a step fails. */
export async function migrate(
  db: Db,
  command: MigrationCommand,
  target?: string,
): Promise<MigrationResultSet> {
  const migrator = createMigrator(db)
  const resultSet = await run(migrator, command, target)
  if (resultSet.error) {
    const failed = resultSet.results?.find((result) => result.status === 'Error')
    const what = failed ? `migration ${failed.migrationName}` : 'migrating'
    throw new MigrationError(`${what} failed: ${String(resultSet.error)}`, { cause: resultSet.error })
  }
  return resultSet
}

function run(migrator: Migrator, command: MigrationCommand, target?: string): Promise<MigrationResultSet> {
  switch (command) {
    case 'latest':
      return migrator.migrateToLatest()
    case 'up':
      return migrator.migrateUp()
    case 'down':
      return migrator.migrateDown()
    case 'reset':
      return migrator.migrateTo(NO_MIGRATIONS)
    case 'to':
      if (!target)
        throw new MigrationError(`'to' needs a migration name: one of ${Object.keys(migrations).join(', ')}`)
      if (target !== '0' && !(target in migrations)) {
        throw new MigrationError(
          `unknown migration '${target}': one of 0, ${Object.keys(migrations).join(', ')}`,
        )
      }
      return migrator.migrateTo(target === '0' ? NO_MIGRATIONS : target)
  }
}

/** The names of the migrations this code knows that the database has not applied yet. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const known = await createMigrator(db).getMigrations()
  return known.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name)
}
