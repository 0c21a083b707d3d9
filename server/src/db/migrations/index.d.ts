import type { Migration } from 'kysely';
/** Every migration, in order. Names sort as they apply; never rename one that has shipped. */
export declare const migrations: Record<string, Migration>;
