import type { Config } from '../config/config.ts';
/** At start, after migrations: the admin of API_ADMIN_EMAIL / API_ADMIN_PASSWORD exists with that password. */
declare const _default: (app: import("fastify").FastifyInstance<import("fastify").RawServerDefault, import("http").IncomingMessage, import("http").ServerResponse<import("http").IncomingMessage>, import("fastify").FastifyBaseLogger, import("fastify").FastifyTypeProviderDefault>, { config }: {
    config: Config;
}) => Promise<void>;
export default _default;
