import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig } from './config/config.ts'
import { loadDotEnv } from './config/dotenv.ts'

loadDotEnv()
// `npm start -- ws` (or api, all) picks the process's role, as APP_ROLE does
const [role] = process.argv.slice(2)
if (role) process.env.APP_ROLE = role
let config
try {
  config = loadConfig(process.env)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(`Cannot start: ${error.message}`)
  process.exit(1)
}

const app = await buildApp(config)
closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error')
  else app.log.info(`${signal}: shutting down`)
  await app.close()
})
const address = await app.listen({ host: config.http.host, port: config.http.port })
app.log.info(`ready: ${address.replace('0.0.0.0', 'localhost')}/api (docs at /api/docs)`)
