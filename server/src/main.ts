import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig } from './config/config.ts'
import { loadDotEnv } from './config/dotenv.ts'
import { listenStartupError, StartupError } from './startup/startup-error.ts'

/** A mistake in the environment or an unreachable service: one line saying what to fix, exit 1. */
function refuseToStart(reason: string): never {
  console.error(`Cannot start: ${reason}`)
  process.exit(1)
}

loadDotEnv()
// `npm start -- ws` (or api, all) picks the process's role, as APP_ROLE does
const [role] = process.argv.slice(2)
if (role) process.env.APP_ROLE = role
let config
try {
  config = loadConfig(process.env)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  refuseToStart(error.message)
}

const app = await buildApp(config).catch((error: unknown) => {
  if (error instanceof StartupError) refuseToStart(error.message)
  throw error
})
// SIGTERM: not ready first (health and upgrades say so while open sockets are still served), then close:
// the listener stops, open WebSockets get 1001 and reconnect elsewhere, connections end.
closeWithGrace({ delay: config.shutdownDrainMs + 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error')
  else app.log.info(`${signal}: shutting down`)
  app.lifecycle.startDraining()
  if (!err) await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs))
  await app.close()
})
const { host, port } = config.http
const address = await app.listen({ host, port }).catch(async (error: unknown) => {
  // the metrics listener starts on ready, inside listen: its refusal comes as a StartupError already
  const reason = error instanceof StartupError ? error : listenStartupError(error, host, port)
  if (!reason) throw error
  await app.close()
  refuseToStart(reason.message)
})
const base = address.replace('0.0.0.0', 'localhost')
app.log.info(
  config.role === 'ws'
    ? `ready: ${base}/ws (WebSocket only; health at ${base}/api/health)`
    : `ready: ${base}/app/ (API at ${base}/api, docs at ${base}/api/docs)`,
)
