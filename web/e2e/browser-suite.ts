import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { launchChromium } from './browser'
import { contextsOf } from './chat-page'
import { startServer, type TestServer } from './test-server'

export interface BrowserSuite {
  /** the server under test: in this process, or the whole stack behind nginx with E2E_STACK=1 */
  readonly server: TestServer
  /** the address pages and API calls reach the server at */
  readonly base: string
  /** Chromium, trusting the stack's HTTPS certificate when there is one */
  readonly browser: Browser
  /** the browser contexts and pages of one test, closed after it */
  readonly contexts: ReturnType<typeof contextsOf>
}

/**
 * What every browser test file sets up: a server and a Chromium for the file, fresh contexts for each test.
 * Called inside `describe`, it registers its own hooks there; what it returns is read inside tests (after
 * beforeAll). `serverEnv`: the server's extra environment, or a function that gives it when the server
 * starts, for values known only then (the address of a mail catcher started in an earlier beforeAll).
 */
export function browserSuite(
  serverEnv: Record<string, string> | (() => Record<string, string>) = {},
): BrowserSuite {
  let server: TestServer | undefined
  let browser: Browser | undefined
  beforeAll(async () => {
    server = await startServer(typeof serverEnv === 'function' ? serverEnv() : serverEnv)
    browser = await launchChromium(server.trustedSpki)
  })
  afterAll(async () => {
    // the server and its database go even when the browser fails to close
    try {
      await browser?.close()
    } finally {
      await server?.stop()
    }
  })
  const contexts = contextsOf(() => started(browser, 'browser'))
  afterEach(() => contexts.closeAll())
  return {
    get server() {
      return started(server, 'server')
    },
    get base() {
      return started(server, 'server').url
    },
    get browser() {
      return started(browser, 'browser')
    },
    contexts,
  }
}

function started<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new Error(`the suite's ${what} is not started: read it inside a test or hook`)
  return value
}
