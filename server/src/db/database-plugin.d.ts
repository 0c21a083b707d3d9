import type { Config } from '../config/config.ts';
import { type DatabaseTarget, type Db } from './database.ts';
declare module 'fastify' {
    interface FastifyInstance {
        db: Db;
    }
}
export declare function databaseTarget(config: Config): DatabaseTarget;
declare const _default: (app: import("fastify").FastifyInstance<import("fastify").RawServerDefault, import("http").IncomingMessage, import("http").ServerResponse<import("http").IncomingMessage>, import("fastify").FastifyBaseLogger, import("fastify").FastifyTypeProviderDefault>, { config }: {
    config: Config;
}) => Promise<void>;
export default _default;
