export declare const SPA_DIST: string;
/**
 * The built SPA at /app/, for the embedded default (behind nginx, nginx serves it). Hashed assets are
 * cached for good; index.html is revalidated each time; any other /app/ path is a deep link of the
 * SPA's router and gets index.html.
 */
declare const _default: (app: import("fastify").FastifyInstance<import("fastify").RawServerDefault, import("http").IncomingMessage, import("http").ServerResponse<import("http").IncomingMessage>, import("fastify").FastifyBaseLogger, import("fastify").FastifyTypeProviderDefault>, { root }: {
    root?: string;
}) => Promise<void>;
export default _default;
