import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { type FieldErrors } from '@chat/contract';
/** ajv's errors in the original's (marshmallow's) shape: `{"email": ["Not a valid email address."]}`. */
export declare function toFieldErrors(errors: FastifySchemaValidationError[], body: unknown): FieldErrors;
/**
 * One error policy: every failure answers `{"valid": false, "data": …}`; what a client did wrong is said
 * plainly, what went wrong inside is logged with the request id and never shown.
 */
declare const _default: (app: import("fastify").FastifyInstance<import("fastify").RawServerDefault, import("http").IncomingMessage, import("http").ServerResponse<import("http").IncomingMessage>, import("fastify").FastifyBaseLogger, import("fastify").FastifyTypeProviderDefault>) => Promise<void>;
export default _default;
