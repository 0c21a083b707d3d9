import { type Config } from '../config/config.ts';
/** The PostgreSQL and Redis that tests may create databases and keys in (CI's local services by default). */
export declare const TEST_POSTGRES_URL: string;
export declare const TEST_REDIS_URL: string;
export declare const uniqueName: (prefix: string) => string;
/** A new, empty database for one test file; `drop()` removes it even with connections left open. */
export declare function createTestDatabase(): Promise<{
    url: string;
    drop: () => Promise<void>;
}>;
/** A key prefix of its own; `drop()` deletes every key under it. */
export declare function createTestRedisPrefix(): {
    prefix: string;
    drop: () => Promise<void>;
};
export interface TestBackend {
    name: string;
    /** a config for this backend (with the given variables on top) and a cleanup that removes what it made */
    setup(env?: Record<string, string>): Promise<{
        config: Config;
        cleanup: () => Promise<void>;
    }>;
}
export declare const realBackend: TestBackend;
export declare const embeddedBackend: TestBackend;
export declare const backends: TestBackend[];
