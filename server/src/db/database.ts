import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import pg from 'pg'
import type { Config } from '../config/config.ts'
import type { Database } from './schema.ts'

/** `text` for a LIKE pattern, its `%`, `_` and `\` taken literally (the default escape is `\`) */
export const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`)

export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir?: string }

export type Db = Kysely<Database>

/** The database the config names: PostgreSQL at DATABASE_URL, else embedded PGlite. */
export function databaseTarget(config: Config): DatabaseTarget {
  return config.databaseUrl
    ? { kind: 'postgres', url: config.databaseUrl }
    : { kind: 'pglite', dataDir: config.pgliteDataDir }
}

/** A description for the start-up log: never the password. */
export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === 'pglite') return `embedded PGlite (${target.dataDir ?? 'in memory'})`
  const url = new URL(target.url)
  return `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`
}

/** What the app hears of PostgreSQL's connections (metrics, logs); tests and the CLI need none of it. */
export interface DatabaseObserver {
  /** a connection failed outside any query (a lost server, a broken socket) */
  connectionError(error: Error): void
  /** the pool, to read its client counts from */
  pool(pool: pg.Pool): void
}

export function createDatabase(target: DatabaseTarget, observer?: DatabaseObserver): Db {
  if (target.kind === 'pglite') {
    if (target.dataDir && !target.dataDir.startsWith('memory://'))
      mkdirSync(target.dataDir, { recursive: true })
    // PostgreSQL's default 128 MB of shared buffers would all be resident in the WebAssembly heap; a chat's
    // working set is far smaller, and 16 MB takes about 120 MiB off the process at rest (bench: memory)
    const startParams = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB']
    return new Kysely<Database>({ dialect: new PGliteDialect(new PGlite(target.dataDir, { startParams })) })
  }
  // A PostgreSQL that accepts connections but never answers (a stalled disk, a partition that keeps the
  // socket) must not hang a request: connecting or waiting for a pooled client gives up after 3 s, and a
  // query whose answer does not come within 5 s fails, so the request answers 503 in bounded time.
  const pool = new pg.Pool({
    connectionString: target.url,
    max: 10,
    connectionTimeoutMillis: 3_000,
    query_timeout: 5_000,
  })
  // A client that loses its server emits 'error' (on the pool when idle, on the client when busy); with no
  // listener that kills the process. The query in flight fails on its own and is answered as such; the
  // observer (the app's) logs and counts the connection's error.
  const connectionError = (error: Error) => observer?.connectionError(error)
  pool.on('error', connectionError)
  pool.on('connect', (client) => client.on('error', connectionError))
  observer?.pool(pool)
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}

export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db)
}
