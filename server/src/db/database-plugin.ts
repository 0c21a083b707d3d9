import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
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
    const db = createDatabase(target, {
      connectionError(error) {
        app.metrics.postgresErrors.inc()
        app.log.warn({ err: error }, 'PostgreSQL connection error')
      },
      pool(pool) {
        new Gauge({
          name: 'chat_postgres_pool_clients',
          help: 'PostgreSQL pool clients: all open, idle, and requests waiting for one',
          labelNames: ['state'] as const,
          registers: [app.metrics.registry],
          collect() {
            this.set({ state: 'total' }, pool.totalCount)
            this.set({ state: 'idle' }, pool.idleCount)
            this.set({ state: 'waiting' }, pool.waitingCount)
          },
        })
      },
    })
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
  { name: 'database', dependencies: ['metrics'] },
)
