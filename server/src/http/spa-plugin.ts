import { existsSync } from 'node:fs'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { repositoryRoot } from '../config/config.ts'

export const SPA_DIST = path.join(repositoryRoot, 'web', 'dist')

/**
 * The built SPA at /app/, for the embedded default (behind nginx, nginx serves it). Hashed assets are
 * cached for good; index.html is revalidated each time; any other /app/ path is a deep link of the
 * SPA's router and gets index.html.
 */
export default fp(
  async (app, { root = SPA_DIST }: { root?: string }) => {
    app.get('/', (_request, reply) => reply.redirect('/app/'))
    if (!existsSync(path.join(root, 'index.html'))) {
      app.log.warn(`no SPA build in ${root}: run npm run build -w web`)
      return
    }
    await app.register(fastifyStatic, {
      root,
      prefix: '/app/',
      wildcard: false,
      index: false,
      setHeaders: (response, file) => {
        const immutable = file.includes(`${path.sep}assets${path.sep}`)
        response.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      },
    })
    const sendIndex = (_request: FastifyRequest, reply: FastifyReply) =>
      reply.header('cache-control', 'no-cache').sendFile('index.html')
    app.get('/app', (_request, reply) => reply.redirect('/app/'))
    app.get('/app/', sendIndex)
    app.get('/app/*', async (request, reply) => {
      const file = (request.params as { '*': string })['*']
      if (file.startsWith('assets/')) {
        return reply.code(404).send({ valid: false, data: `No file /app/${file}` })
      }
      return sendIndex(request, reply)
    })
  },
  { name: 'spa' },
)
