import type { InstanceSettings } from '@chat/contract'
import type { Db } from '../db/database.ts'

const DEFAULTS: InstanceSettings = { require_two_factor_for_admins: false }

/** The only module that touches `settings`: one row per setting, its value as JSON. */
export class SettingsRepository {
  constructor(private readonly db: Db) {}

  async read(): Promise<InstanceSettings> {
    const rows = await this.db.selectFrom('settings').selectAll().execute()
    const stored = Object.fromEntries(rows.map((row) => [row.name, JSON.parse(row.value) as unknown]))
    return { ...DEFAULTS, ...stored } as InstanceSettings
  }

  async write(settings: InstanceSettings): Promise<void> {
    await this.db
      .insertInto('settings')
      .values(Object.entries(settings).map(([name, value]) => ({ name, value: JSON.stringify(value) })))
      .onConflict((conflict) =>
        conflict.column('name').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
      )
      .execute()
  }
}
