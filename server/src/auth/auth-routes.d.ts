import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../config/config.ts';
/** `/api/v1.0/user/*`: the original's login, plus what a product needs around it. */
declare const authRoutes: FastifyPluginAsyncTypebox<{
    config: Config;
}>;
export default authRoutes;
