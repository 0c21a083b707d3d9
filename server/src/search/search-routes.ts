import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  FieldErrorsResponseSchema,
  MessageErrorResponseSchema,
  Ok,
  SearchPageSchema,
  SearchQuerySchema,
} from '@chat/contract'
import type { Config } from '../config/config.ts'
import { SearchRepository } from './search-repository.ts'
import { SearchService } from './search-service.ts'

/** `GET /api/v1.0/search`: full-text search over the messages of the rooms the user is a member of. */
const searchRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const store = app.redis && { redis: app.redis, keyPrefix: config.redisKeyPrefix }
  const search = new SearchService(new SearchRepository(app.db), store)
  app.addHook('preHandler', app.requireSession)

  app.get(
    '/',
    {
      schema: {
        summary: 'Messages of your rooms with all the words, best match first; filter by room, author, dates',
        querystring: SearchQuerySchema,
        response: {
          200: Ok(SearchPageSchema),
          400: FieldErrorsResponseSchema,
          401: MessageErrorResponseSchema,
          429: MessageErrorResponseSchema,
        },
      },
    },
    async (request) => ({
      valid: true as const,
      data: await search.search(request.session!.user.id, request.query),
    }),
  )
}

export default searchRoutes
