import { Writable } from 'node:stream'
import { buildApp, type App } from '../app.ts'
import type { Config } from '../config/config.ts'
import type { TestBackend } from './backends.ts'

export interface TestApp {
  app: App
  config: Config
  /** every log line the app wrote, as text */
  logs: string[]
  close(): Promise<void>
}

/** Builds the real app on a backend of its own, logging at debug level into `logs`. */
export async function startTestApp(backend: TestBackend, env: Record<string, string> = {}): Promise<TestApp> {
  const { config, cleanup } = await backend.setup({ LOG_LEVEL: 'debug', ...env })
  const logs: string[] = []
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const app = await buildApp(config, { logStream })
  await app.ready()
  return {
    app,
    config,
    logs,
    close: async () => {
      await app.close()
      await cleanup()
    },
  }
}

export const newEmail = () => `user-${crypto.randomUUID()}@example.com`

export function postJson(app: App, url: string, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url,
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  })
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A new account logged in twice (each session from the given headers): its email and both tokens. */
export async function accountWithTwoSessions(
  app: App,
  headers: [Record<string, string>, Record<string, string>] = [{}, {}],
): Promise<{ email: string; password: string; first: string; second: string }> {
  const email = newEmail()
  const password = 'a-good-password'
  const registered = await postJson(app, '/api/v1.0/user/register', { email, password }, headers[0])
  const loggedIn = await postJson(app, '/api/v1.0/user/auth', { email, password }, headers[1])
  return {
    email,
    password,
    first: registered.json().data.access_token as string,
    second: loggedIn.json().data.access_token as string,
  }
}
