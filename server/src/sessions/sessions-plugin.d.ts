import type { Config } from '../config/config.ts';
import { type SessionStore } from './session-store.ts';
declare module 'fastify' {
    interface FastifyInstance {
        sessions: SessionStore;
    }
}
declare const _default: (app: import("fastify").FastifyInstance<import("fastify").RawServerDefault, import("http").IncomingMessage, import("http").ServerResponse<import("http").IncomingMessage>, import("fastify").FastifyBaseLogger, import("fastify").FastifyTypeProviderDefault>, { config }: {
    config: Config;
}) => Promise<void>;
export default _default;
