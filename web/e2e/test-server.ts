import type { AddressInfo } from 'node:net'
import { spkiFingerprint, startStack } from '../../topology/stack-under-test.ts'
import { buildApp, loadConfig, type App } from '@chat/server'
import { productionLikeEnv } from '@chat/server/testing'

export interface TestServer {
  url: string
  /** the admin account the server creates at start */
  admin: { email: string; password: string }
  /** its PostgreSQL database, for setting up what no API offers yet */
  databaseUrl: string
  /** the SPKI fingerprint of the HTTPS certificate Chromium must accept (through nginx only) */
  trustedSpki?: string
  restart(downMs: number): Promise<void>
  /** ends every session at once, by deleting the server's Redis state: as if each had expired meanwhile */
  forgetSessions(): Promise<void>
  stop(): Promise<void>
}

/**
 * The real server on PostgreSQL and Redis of its own: in this process (API, WebSocket and the built SPA
 * on one port), or, with E2E_STACK=1, the whole topology behind nginx (`make stack`). Either can be
 * stopped and started again on the same address under the pages' feet.
 */
export async function startServer(extra: Record<string, string> = {}): Promise<TestServer> {
  const { env, admin, cleanup, forgetRedisState } = await productionLikeEnv(extra)

  if (process.env.E2E_STACK === '1') {
    // the certificate this process already trusts (NODE_EXTRA_CA_CERTS, from e2e/stack-certificate.ts)
    const certificate = process.env.E2E_TLS_CERTIFICATE
    const key = process.env.E2E_TLS_CERTIFICATE_KEY
    if (!certificate || !key)
      throw new Error('E2E_STACK=1 runs need the global setup e2e/stack-certificate.ts')
    // through nginx's HTTPS, so the session cookie is Secure (__Host-session) as in production
    const stack = await startStack(
      { ...env, SESSION_COOKIE_SECURE: 'true' },
      { certificate: { certificate, key } },
    )
    return {
      url: stack.url,
      admin,
      databaseUrl: env.DATABASE_URL!,
      trustedSpki: spkiFingerprint(stack.ca),
      restart: stack.restart,
      forgetSessions: forgetRedisState,
      stop: async () => {
        await stack.stop()
        await cleanup()
      },
    }
  }

  const config = loadConfig(env)
  let app: App | undefined
  let port = 0
  const start = async () => {
    app = await buildApp(config)
    await app.listen({ host: '127.0.0.1', port })
    port = (app.server.address() as AddressInfo).port
  }
  await start()
  return {
    get url() {
      return `http://127.0.0.1:${port}`
    },
    admin,
    databaseUrl: env.DATABASE_URL!,
    restart: async (downMs) => {
      await app?.close()
      await new Promise((resolve) => setTimeout(resolve, downMs))
      await start()
    },
    forgetSessions: forgetRedisState,
    stop: async () => {
      await app?.close()
      await cleanup()
    },
  }
}
