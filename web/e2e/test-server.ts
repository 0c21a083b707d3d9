import type { AddressInfo } from 'node:net'
import { startStack } from '../../topology/stack-under-test.ts'
import { buildApp, type App } from '../../server/src/app.ts'
import { loadConfig } from '../../server/src/config/config.ts'
import { productionLikeEnv } from '../../server/src/test/backends.ts'

export interface TestServer {
  url: string
  restart(downMs: number): Promise<void>
  stop(): Promise<void>
}

/**
 * The real server on PostgreSQL and Redis of its own: in this process (API, WebSocket and the built SPA
 * on one port), or, with E2E_STACK=1, the whole topology behind nginx (`make stack`). Either can be
 * stopped and started again on the same address under the pages' feet.
 */
export async function startServer(extra: Record<string, string> = {}): Promise<TestServer> {
  const { env, cleanup } = await productionLikeEnv(extra)

  if (process.env.E2E_STACK === '1') {
    const stack = await startStack(env)
    return { url: stack.url, restart: stack.restart, stop: () => stack.stop().then(cleanup) }
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
    restart: async (downMs) => {
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
