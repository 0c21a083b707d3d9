import type { AddressInfo } from 'node:net'
import { buildApp, type App } from '../../server/src/app.ts'
import type { Config } from '../../server/src/config/config.ts'
import { realBackend } from '../../server/src/test/backends.ts'

/**
 * The real server (API, WebSocket and the built SPA) on PostgreSQL and Redis of its own, on a fixed port
 * so that it can be stopped and started again under the pages' feet. E2E_BASE_URL points elsewhere (nginx)
 * when set: then only the backends are made here.
 */
export async function startServer(env: Record<string, string> = {}) {
  const { config, cleanup } = await realBackend.setup({
    LOG_LEVEL: 'warn',
    SESSION_COOKIE_SECURE: 'false',
    ...env,
  })
  let app: App | undefined
  let port = 0
  const start = async () => {
    app = await buildApp(config as Config)
    await app.listen({ host: '127.0.0.1', port })
    port = (app.server.address() as AddressInfo).port
  }
  await start()
  return {
    config,
    get url() {
      return `http://127.0.0.1:${port}`
    },
    restart: async (downMs: number) => {
      await app?.close()
      await new Promise((resolve) => setTimeout(resolve, downMs))
      await start()
    },
    stop: async () => {
      await app?.close()
      await cleanup()
    },
  }
}
