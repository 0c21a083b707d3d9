import type { AuditEvent, AuditEventName } from '@chat/contract'
import type { Db } from '../db/database.ts'

/** Someone an entry names: who acted, or whom it concerns. */
export interface AuditParty {
  id?: string
  email: string
}

export interface AuditEntry {
  event: AuditEventName
  actor?: AuditParty
  target?: AuditParty
  address?: string
  detail?: string
}

export interface AuditQuery {
  event?: AuditEventName
  /** entries naming this user, as actor or target */
  userId?: string
  /** entries before this id (the next page) */
  before?: string
  limit: number
}

/** The only module that touches `audit_events`: it inserts and reads, never updates or deletes. */
export class AuditRepository {
  constructor(private readonly db: Db) {}

  async insert({ event, actor, target, address, detail }: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values({
        event,
        actor_id: actor?.id ?? null,
        actor_email: actor?.email ?? null,
        target_id: target?.id ?? null,
        target_email: target?.email ?? null,
        address: address ?? null,
        detail: detail ?? null,
      })
      .execute()
  }

  /** Newest first, one page. */
  async list({ event, userId, before, limit }: AuditQuery): Promise<AuditEvent[]> {
    let query = this.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(limit)
    if (event) query = query.where('event', '=', event)
    if (userId)
      query = query.where((eb) => eb.or([eb('actor_id', '=', userId), eb('target_id', '=', userId)]))
    if (before) query = query.where('id', '<', before)
    const rows = await query.execute()
    return rows.map((row) => ({
      id: String(row.id),
      at: row.at.toISOString(),
      event: row.event as AuditEventName,
      actor:
        row.actor_id !== null && row.actor_email !== null
          ? { id: String(row.actor_id), email: row.actor_email }
          : null,
      target:
        row.target_email !== null
          ? { id: row.target_id === null ? null : String(row.target_id), email: row.target_email }
          : null,
      address: row.address,
      detail: row.detail,
    }))
  }
}

/**
 * The audit log (ASVS 5.0 V16.3.1, V16.3.2): security events with who, whom, when and where from, written
 * as they happen and never changed or deleted by the app. A login also stamps the user's last login.
 */
export class AuditLog {
  constructor(
    private readonly repository: AuditRepository,
    private readonly lastLogin: (userId: string) => Promise<void>,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.repository.insert(entry)
    if (entry.event === 'login_succeeded' && entry.target?.id) await this.lastLogin(entry.target.id)
  }

  list(query: AuditQuery): Promise<AuditEvent[]> {
    return this.repository.list(query)
  }
}
