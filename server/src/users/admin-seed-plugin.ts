import fp from 'fastify-plugin'
import type { Config } from '../config/config.ts'
import { ensureAdmin } from './admin-seed.ts'
import { UserRepository } from './user-repository.ts'

/** At start, after migrations: the admin of API_ADMIN_EMAIL / API_ADMIN_PASSWORD exists with that password. */
export default fp(
  async (app, { config }: { config: Config }) => {
    const result = await ensureAdmin(new UserRepository(app.db), config.admin)
    app.log.info(`admin ${config.admin.email}: ${result}`)
  },
  { name: 'admin-seed', dependencies: ['database'] },
)
