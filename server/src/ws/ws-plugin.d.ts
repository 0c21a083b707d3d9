import type { Config } from '../config/config.ts';
import { type Session } from '../sessions/session-store.ts';
declare module 'fastify' {
    interface FastifyRequest {
        upgrade?: {
            token: string;
            session: Session;
            chat: boolean;
        };
    }
}
/**
 * `GET /ws`: the WebSocket server. Credentials are checked before the upgrade completes, so a bad one
 * gets a plain HTTP status and never a `101`. No subprotocol speaks the original echo; `chat.v1` the chat.
 */
declare const _default: (app: import("fastify").FastifyInstance<import("fastify").RawServerDefault, import("http").IncomingMessage, import("http").ServerResponse<import("http").IncomingMessage>, import("fastify").FastifyBaseLogger, import("fastify").FastifyTypeProviderDefault>, { config }: {
    config: Config;
}) => Promise<void>;
export default _default;
