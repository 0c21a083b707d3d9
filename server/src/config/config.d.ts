import { Type, type Static } from 'typebox';
/** The repository root: embedded data lives in `<root>/.data`, as the original's volumes did. */
export declare const repositoryRoot: string;
/** The placeholder of `.env.example`: fine for a laptop, refused in production. */
export declare const PLACEHOLDER_ADMIN: {
    email: string;
    password: string;
};
/**
 * Every environment variable the server reads, the original's names first. `.env.example` documents the
 * same list; `config.test.ts` checks that the two agree.
 */
export declare const EnvSchema: Type.TObject<{
    API_MODE: Type.TEnum<["dev", "production"]>;
    API_ADMIN_EMAIL: Type.TOptional<Type.TString>;
    API_ADMIN_PASSWORD: Type.TOptional<Type.TString>;
    API_WEBSOCKET_TIMEOUT: Type.TNumber;
    POSTGRES_HOST: Type.TOptional<Type.TString>;
    POSTGRES_PORT: Type.TInteger;
    POSTGRES_DB: Type.TString;
    POSTGRES_USER: Type.TString;
    POSTGRES_PASSWORD: Type.TString;
    DATABASE_URL: Type.TOptional<Type.TString>;
    PGLITE_DATA_DIR: Type.TString;
    REDIS_URL: Type.TOptional<Type.TString>;
    REDIS_KEY_PREFIX: Type.TString;
    HOST: Type.TOptional<Type.TString>;
    PORT: Type.TInteger;
    LOG_LEVEL: Type.TEnum<["fatal", "error", "warn", "info", "debug", "trace", "silent"]>;
    TRUSTED_PROXIES: Type.TString;
    SESSION_IDLE_TIMEOUT: Type.TNumber;
    SESSION_ABSOLUTE_TIMEOUT: Type.TNumber;
    SESSION_COOKIE_NAME: Type.TString;
    SESSION_COOKIE_SECURE: Type.TOptional<Type.TEnum<["true", "false"]>>;
    LOGIN_MAX_FAILURES_PER_ACCOUNT: Type.TInteger;
    LOGIN_MAX_FAILURES_PER_ADDRESS: Type.TInteger;
    LOGIN_FAILURE_WINDOW: Type.TNumber;
    APP_ROLE: Type.TEnum<["all", "api", "ws"]>;
    WS_ALLOWED_ORIGINS: Type.TString;
    WS_MAX_MESSAGE_BYTES: Type.TInteger;
    WS_MESSAGES_PER_SECOND: Type.TInteger;
    WS_MAX_CONNECTIONS_PER_USER: Type.TInteger;
    WS_SEND_BUFFER_LIMIT: Type.TInteger;
    WS_SESSION_CHECK_INTERVAL: Type.TNumber;
    CHAT_HISTORY_LIMIT: Type.TInteger;
    MIGRATE_ON_START: Type.TEnum<["true", "false"]>;
}>;
export type Env = Static<typeof EnvSchema>;
export declare class ConfigError extends Error {
    name: string;
}
/** Parse and check the environment once, at start. Throws a ConfigError naming each bad variable. */
export declare function loadConfig(source: Record<string, string | undefined>): {
    mode: "dev" | "production";
    http: {
        host: string;
        port: number;
        trustedProxies: string[];
    };
    logLevel: "error" | "fatal" | "warn" | "info" | "debug" | "trace" | "silent";
    admin: {
        email: string;
        password: string;
    };
    /** undefined: embedded PGlite in `pgliteDataDir` */
    databaseUrl: string | undefined;
    pgliteDataDir: string;
    migrateOnStart: boolean;
    /** undefined: sessions and limits kept in this process */
    redisUrl: string | undefined;
    redisKeyPrefix: string;
    session: {
        idleTimeoutMs: number;
        absoluteTimeoutMs: number;
        cookieName: string;
        cookieSecure: boolean;
    };
    loginLimits: {
        maxFailuresPerAccount: number;
        maxFailuresPerAddress: number;
        windowSeconds: number;
    };
    role: "ws" | "all" | "api";
    websocket: {
        heartbeatIntervalMs: number;
        allowedOrigins: string[];
        maxMessageBytes: number;
        maxConnectionsPerUser: number;
        sendBufferLimit: number;
        sessionCheckIntervalMs: number;
    };
    chat: {
        historyLimit: number;
        messagesPerSecond: number;
        presenceIntervalMs: number;
    };
};
declare function fromEnv(env: Env): {
    mode: "dev" | "production";
    http: {
        host: string;
        port: number;
        trustedProxies: string[];
    };
    logLevel: "error" | "fatal" | "warn" | "info" | "debug" | "trace" | "silent";
    admin: {
        email: string;
        password: string;
    };
    /** undefined: embedded PGlite in `pgliteDataDir` */
    databaseUrl: string | undefined;
    pgliteDataDir: string;
    migrateOnStart: boolean;
    /** undefined: sessions and limits kept in this process */
    redisUrl: string | undefined;
    redisKeyPrefix: string;
    session: {
        idleTimeoutMs: number;
        absoluteTimeoutMs: number;
        cookieName: string;
        cookieSecure: boolean;
    };
    loginLimits: {
        maxFailuresPerAccount: number;
        maxFailuresPerAddress: number;
        windowSeconds: number;
    };
    role: "ws" | "all" | "api";
    websocket: {
        heartbeatIntervalMs: number;
        allowedOrigins: string[];
        maxMessageBytes: number;
        maxConnectionsPerUser: number;
        sendBufferLimit: number;
        sessionCheckIntervalMs: number;
    };
    chat: {
        historyLimit: number;
        messagesPerSecond: number;
        presenceIntervalMs: number;
    };
};
export type Config = ReturnType<typeof fromEnv>;
export {};
