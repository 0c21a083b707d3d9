import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
/** `GET /api/health`: 200 when PostgreSQL and the session store answer, 503 (for load balancers) when not. */
declare const healthRoutes: FastifyPluginAsyncTypebox;
export default healthRoutes;
