// `make stack`: the docker compose topology without Docker, from local binaries: nginx in front (HTTPS,
// with plain HTTP redirecting to it), Adminer under `php -S`, one api and two ws processes, on the local
// PostgreSQL and Redis. The processes run under `concurrently`; Ctrl+C (or SIGTERM) stops them all. The
// topology test starts it the same way. Ports and backends come from the environment (the defaults below,
// documented in .env.example and the README); a variable set to an empty string counts as unset.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import concurrently from 'concurrently'
import { renderNginx, renderNginxMain } from './render-nginx.mjs'
import { ensureSelfSignedCertificate } from './self-signed-cert.mjs'

const root = path.resolve(import.meta.dirname, '..')
const given = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== ''))
const stackDir = given.STACK_DIR ?? path.join(root, '.data', 'stack')
const env = {
  STACK_DIR: stackDir,
  NGINX_PORT: '8080',
  NGINX_TLS_PORT: '8443',
  API_PORT: '8100',
  WS_PORTS: '8101,8102',
  ADMINER_PORT: '8180',
  SPA_STATIC_PORT: '8181',
  // where nginx sends /grafana/ (for admins): a Grafana of your own, if any; the stack runs none
  GRAFANA_PORT: '8182',
  // where nginx sends /mail/ (for admins): a mail catcher's web UI of your own, if any; the stack runs none
  MAIL_UI_PORT: '8183',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  REDIS_URL: 'redis://127.0.0.1:6379',
  ADMINER_PHP: '/usr/share/adminer/adminer.php',
  SPA_ROOT: path.join(root, 'web', 'dist'),
  ACCESS_LOG: path.join(stackDir, 'access.log'),
  ERROR_LOG: 'stderr',
  // dev: the placeholder admin of .env.example is accepted, so a fresh clone starts as it is
  API_MODE: 'dev',
  // nginx serves HTTPS, so the session cookie is Secure (and named __Host-…) as in production
  SESSION_COOKIE_SECURE: 'true',
  TRUSTED_PROXIES: '127.0.0.1',
  ...given,
}

// Refuse at once what the api would refuse only after every process has started.
if (env.API_MODE === 'production' && !(env.API_ADMIN_EMAIL && env.API_ADMIN_PASSWORD)) {
  console.error(
    'stack: API_MODE=production needs API_ADMIN_EMAIL and API_ADMIN_PASSWORD (in .env or the environment);' +
      ' leave API_MODE unset (dev) to start with the placeholder admin of .env.example',
  )
  process.exit(2)
}

const wsPorts = env.WS_PORTS.split(',')
mkdirSync(path.join(stackDir, 'tmp', 'php'), { recursive: true })

if (!given.SPA_ROOT)
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-web-if-missing.mjs')], {
    stdio: 'inherit',
  })
if (!env.TLS_CERTIFICATE || !env.TLS_CERTIFICATE_KEY) {
  const { certificate, key, created } = ensureSelfSignedCertificate(path.join(stackDir, 'certs'))
  if (created) console.log(`stack: made a self-signed certificate for localhost: ${certificate}`)
  Object.assign(env, { TLS_CERTIFICATE: certificate, TLS_CERTIFICATE_KEY: key })
}

writeFileSync(
  path.join(stackDir, 'default.conf'),
  renderNginx({
    ...env,
    HTTPS_PUBLIC_PORT: env.NGINX_TLS_PORT,
    API_SERVERS: `server 127.0.0.1:${env.API_PORT};`,
    // ws processes are never marked down (max_fails=0): one that refuses (restarting, or draining: 503) only
    // sends that upgrade on to the next. With nginx's default (down for 10 s after one failure), a rolling
    // restart would find both marked down and answer 502 until the timeout passed.
    WS_SERVERS: wsPorts.map((port) => `server 127.0.0.1:${port} max_fails=0;`).join(' '),
    ADMINER_SERVER: `127.0.0.1:${env.ADMINER_PORT}`,
    GRAFANA_SERVER: `127.0.0.1:${env.GRAFANA_PORT}`,
    MAIL_UI_SERVER: `127.0.0.1:${env.MAIL_UI_PORT}`,
    SPA_UPSTREAM: `127.0.0.1:${env.SPA_STATIC_PORT}`,
  }),
)
writeFileSync(path.join(stackDir, 'nginx.conf'), renderNginxMain(stackDir, env.ERROR_LOG))

const server = (role, port) => ({
  name: role === 'api' ? 'api' : `ws-${port}`,
  command: `node --import tsx src/main.ts ${role}`,
  cwd: path.join(root, 'server'),
  env: { ...env, HOST: '127.0.0.1', PORT: port, MIGRATE_ON_START: 'true' },
})
// Adminer's login throttle file and PHP's sessions go to the stack's directory, not the system's
const phpTemp = path.join(stackDir, 'tmp', 'php')
const phpSettings = ['sys_temp_dir', 'upload_tmp_dir', 'session.save_path']
  .map((setting) => `-d ${setting}=${phpTemp}`)
  .join(' ')

const { result, commands } = concurrently(
  [
    { name: 'nginx', command: `nginx -p ${stackDir} -c ${stackDir}/nginx.conf -g "daemon off;"` },
    {
      name: 'adminer',
      command: `php ${phpSettings} -S 127.0.0.1:${env.ADMINER_PORT} ${path.join(root, 'docker', 'adminer-router.php')}`,
      // Adminer's login form comes filled in with the server and user the api and ws processes use
      env: {
        ...env,
        TMPDIR: phpTemp,
        ADMINER_DEFAULT_SERVER: new URL(env.DATABASE_URL).hostname,
        POSTGRES_USER: decodeURIComponent(new URL(env.DATABASE_URL).username) || 'postgres',
      },
    },
    server('api', env.API_PORT),
    ...wsPorts.map((port) => server('ws', port)),
  ],
  { prefix: 'name', killSignal: 'SIGTERM' },
)
const stopAll = () => commands.forEach((command) => command.kill('SIGTERM'))

// A process that ends on its own ends the stack, unless it is a ws process being restarted on purpose.
const restarting = new Set()
for (const command of commands)
  command.close.subscribe(() => {
    if (!restarting.has(command)) stopAll()
  })

/** Resolves once `port` answers /api/health/ready with 200; rejects after a minute. */
async function ready(port) {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const status = await fetch(`http://127.0.0.1:${port}/api/health/ready`).then(
      (response) => response.status,
      () => 0, // not listening yet
    )
    if (status === 200) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`the ws process on port ${port} did not get ready within a minute`)
}

/**
 * The rolling restart (`make restart-stack-ws`, SIGUSR2): one ws process at a time, SIGTERM (it drains:
 * not ready, sockets closed with 1001, clients reconnect through nginx to the other), start it again, wait
 * until it is ready, then the next. Clients keep their sessions (in Redis) and resume where they were.
 */
let rolling = false
async function restartWs() {
  if (rolling) return
  rolling = true
  try {
    for (const [index, port] of wsPorts.entries()) {
      const command = commands.find((candidate) => candidate.name === `ws-${port}`)
      restarting.add(command)
      const closed = new Promise((resolve) => {
        const subscription = command.close.subscribe(() => {
          subscription.unsubscribe()
          resolve()
        })
      })
      command.kill('SIGTERM')
      await closed
      command.start()
      restarting.delete(command)
      await ready(port)
      console.log(`stack: ws process ${index + 1} of ${wsPorts.length} restarted and ready (port ${port})`)
    }
    console.log('stack: rolling restart of the ws processes done')
  } catch (error) {
    console.error(`stack: rolling restart stopped: ${error.message}`)
  } finally {
    rolling = false
  }
}
process.on('SIGUSR2', () => void restartWs())
writeFileSync(path.join(stackDir, 'stack.pid'), String(process.pid))
console.log(
  `stack: https://localhost:${env.NGINX_TLS_PORT}/ (nginx; http://localhost:${env.NGINX_PORT}/ redirects there), config in ${stackDir}`,
)
// concurrently forwards Ctrl+C itself; a SIGTERM (from a test or a supervisor) must stop the children too
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, stopAll)
await result.catch(() => {
  process.exitCode = 1
})
