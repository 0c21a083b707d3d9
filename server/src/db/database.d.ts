import { Kysely } from 'kysely';
import type { Database } from './schema.ts';
export type DatabaseTarget = {
    kind: 'postgres';
    url: string;
} | {
    kind: 'pglite';
    dataDir?: string;
};
export type Db = Kysely<Database>;
/** A description for the start-up log: never the password. */
export declare function describeTarget(target: DatabaseTarget): string;
export declare function createDatabase(target: DatabaseTarget): Db;
export declare function pingDatabase(db: Db): Promise<void>;
