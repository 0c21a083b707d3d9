import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DestinationStream } from 'pino';
import type { Config } from './config/config.ts';
export interface BuildOptions {
    /** where log lines go instead of stdout (tests read them) */
    logStream?: DestinationStream;
}
/** The one factory: `main.ts` and every test build the app here, so they run the same thing. */
export declare function buildApp(config: Config, options?: BuildOptions): Promise<import("fastify").FastifyInstance<import("http").Server<typeof import("http").IncomingMessage, typeof import("http").ServerResponse>, import("http").IncomingMessage, import("http").ServerResponse<import("http").IncomingMessage>, import("fastify").FastifyBaseLogger, TypeBoxTypeProvider>>;
export type App = Awaited<ReturnType<typeof buildApp>>;
