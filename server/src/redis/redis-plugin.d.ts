import { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import { type Bus } from './bus.ts';
declare module 'fastify' {
    interface FastifyInstance {
        /** undefined in the embedded default: sessions and limits then live in this process */
        redis: Redis | undefined;
        /** pub/sub between processes (within this one in the embedded default) */
        bus: Bus;
    }
}
export declare function createRedis(url: string): Redis;
declare const _default: (app: import("fastify").FastifyInstance<import("fastify").RawServerDefault, import("http").IncomingMessage, import("http").ServerResponse<import("http").IncomingMessage>, import("fastify").FastifyBaseLogger, import("fastify").FastifyTypeProviderDefault>, { config }: {
    config: Config;
}) => Promise<void>;
export default _default;
