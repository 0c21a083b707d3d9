// `npm run db:migrate -- latest | up | down | to <name> | reset`, against the database the config names.
import { loadConfig } from '../config/config.ts'
import { loadDotEnv } from '../config/dotenv.ts'
import { createDatabase, databaseTarget, describeTarget } from './database.ts'
import { migrate, MIGRATION_COMMANDS, type MigrationCommand } from './migrator.ts'

const [command = 'latest', target] = process.argv.slice(2)
if (!MIGRATION_COMMANDS.includes(command as MigrationCommand)) {
  console.error(`usage: npm run db:migrate -- ${MIGRATION_COMMANDS.join(' | ')} (to takes a name, or 0)`)
  process.exit(2)
}

loadDotEnv()
const config = loadConfig(process.env)
const dbTarget = databaseTarget(config)
const db = createDatabase(dbTarget)
try {
  const { results = [] } = await migrate(db, command as MigrationCommand, target)
  console.log(`${describeTarget(dbTarget)}: ${results.length === 0 ? 'nothing to do' : ''}`)
  for (const result of results) console.log(`  ${result.direction} ${result.migrationName}: ${result.status}`)
} catch (error) {
  console.error(String(error))
  process.exitCode = 1
} finally {
  await db.destroy()
}
