import { Migrator, type MigrationResultSet } from 'kysely';
import type { Db } from './database.ts';
export declare const MIGRATION_COMMANDS: readonly ["latest", "up", "down", "to", "reset"];
export type MigrationCommand = (typeof MIGRATION_COMMANDS)[number];
export declare function createMigrator(db: Db): Migrator;
export declare class MigrationError extends Error {
    name: string;
}
/** Runs one command; throws (so scripts exit non-zero) when a step fails. */
export declare function migrate(db: Db, command: MigrationCommand, target?: string): Promise<MigrationResultSet>;
