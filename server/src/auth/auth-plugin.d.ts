import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/config.ts';
import type { SessionUser } from '../sessions/session-store.ts';
import { AuthService } from './auth-service.ts';
declare module 'fastify' {
    interface FastifyInstance {
        auth: AuthService;
        /** preHandler: answers 401 unless the request carries a live session, then sets `request.session` */
        requireSession: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    }
    interface FastifyRequest {
        session?: {
            token: string;
            user: SessionUser;
        };
    }
}
/** The session token of a request: `Authorization: Bearer` (API clients) or the session cookie (the SPA). */
export declare function readToken(request: FastifyRequest, cookieName: string): string | undefined;
declare const _default: (app: import("fastify").FastifyInstance<import("fastify").RawServerDefault, import("http").IncomingMessage, import("http").ServerResponse<import("http").IncomingMessage>, import("fastify").FastifyBaseLogger, import("fastify").FastifyTypeProviderDefault>, { config }: {
    config: Config;
}) => Promise<void>;
export default _default;
