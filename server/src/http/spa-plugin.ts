import { existsSync } from 'node:fs'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { repositoryRoot } from '../config/config.ts'

export const SPA_DIST = path.join(repositoryRoot, 'web', 'dist')

/**
 * The headers nginx gives the SPA (nginx/templates/default.conf.template), so the embedded default is as
 * safe: the page loads only its own scripts, styles and sockets, and no other site may frame it
 * (ASVS 5.0 V3.4.3 CSP, V3.4.6 frame-ancestors, V3.4.4 nosniff, V3.4.5 Referrer-Policy).
 */
export const SPA_SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const

/** hashed file names change with their content: cached for a year, never revalidated */
const IMMUTABLE = 'public, max-age=31536000, immutable'

function setSpaHeaders(response: { setHeader(name: string, value: string): unknown }, file: string): void {
  for (const [name, value] of Object.entries(SPA_SECURITY_HEADERS)) response.setHeader(name, value)
  const hashed = file.includes(`${path.sep}assets${path.sep}`)
  response.setHeader('cache-control', hashed ? IMMUTABLE : 'no-cache')
  // the answer depends on Accept-Encoding (a precompressed copy or not): caches must keep them apart
  response.setHeader('vary', 'accept-encoding')
}

/**
 * The built SPA at /app/, for the embedded default (behind nginx, nginx serves it). Each file goes out as
 * the build precompressed it (brotli or gzip, as the browser accepts; `Vary: Accept-Encoding`). Hashed
 * assets are cached for good; index.html is revalidated each time; any other /app/ path is a deep link of
 * the SPA's router and gets index.html.
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
      preCompressed: true,
      // our cache-control, not the default `max-age=0` that would make browsers revalidate hashed assets
      cacheControl: false,
      setHeaders: setSpaHeaders,
    })
    const sendIndex = (_request: FastifyRequest, reply: FastifyReply) =>
      reply.headers({ ...SPA_SECURITY_HEADERS, 'cache-control': 'no-cache' }).sendFile('index.html')
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
