import fp from 'fastify-plugin'
import { ApiError } from './api-error.ts'
import { isAllowedOrigin } from './origin.ts'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Cross-site request forgery (ASVS 3.5.1, 3.5.3): a browser attaches the session cookie to a request that
 * another site's page makes, so a state-changing request is refused when the browser says it comes from
 * another site (`Sec-Fetch-Site: cross-site`) or from another origin (`Origin`). SameSite=Strict is the
 * first line; this one holds where SameSite does not (same-site subdomains, older browsers). Login is
 * covered too (login CSRF). Requests with an `Authorization` header carry no ambient credential, and
 * clients that send neither header (curl, the original's clients) are not browsers pages at all.
 */
export default fp(
  async (app, { allowedOrigins }: { allowedOrigins: readonly string[] }) => {
    app.addHook('onRequest', async (request) => {
      if (SAFE_METHODS.has(request.method) || request.headers.authorization) return
      const { origin } = request.headers
      const crossSite = request.headers['sec-fetch-site'] === 'cross-site'
      if (crossSite || (origin !== undefined && !isAllowedOrigin(origin, request, allowedOrigins))) {
        throw new ApiError(403, 'Requests from other sites are refused; use the app from its own address')
      }
    })
  },
  { name: 'cross-site-guard' },
)
