import fp from 'fastify-plugin'
import type { Config } from '../config/config.ts'
import { databaseStartupError } from '../startup/startup-error.ts'
import { createDatabase, databaseTarget, describeTarget, pingDatabase, type Db } from './database.ts'
import { migrate } from './migrator.ts'

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
  }
}

export default fp(
  async (app, { config }: { config: Config }) => {
    const target = databaseTarget(config)
    const db = createDatabase(target)
    app.decorate('db', db)
    app.addHook('onClose', () => db.destroy())
    if (target.kind === 'postgres') {
      // one clear line at start (wrong database name, password, host) instead of a driver's stack trace
      await pingDatabase(db).catch((error: unknown) => {
        throw databaseStartupError(error, target.url)
      })
    }
    if (config.migrateOnStart) {
      const { results = [] } = await migrate(db, 'latest')
      for (const result of results) app.log.info({ migration: result.migrationName }, 'migration applied')
    }
    app.log.info(`database: ${describeTarget(target)}`)
  },
  { name: 'database' },
)
