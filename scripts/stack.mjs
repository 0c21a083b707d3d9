// `make stack`: the docker compose topology without Docker, from local binaries: nginx in front, Adminer
// under `php -S`, one api and two ws processes, on the local PostgreSQL and Redis. The processes run
// under `concurrently`; Ctrl+C (or SIGTERM) stops them all. The topology test starts it the same way.
// Ports and backends come from the environment (see the defaults below and .env.example).
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import concurrently from 'concurrently'
import { renderNginx } from './render-nginx.mjs'

const root = path.resolve(import.meta.dirname, '..')
const env = {
  STACK_DIR: path.join(root, '.data', 'stack'),
  NGINX_PORT: '8080',
  API_PORT: '8100',
  WS_PORTS: '8101,8102',
  ADMINER_PORT: '8180',
  SPA_STATIC_PORT: '8181',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  REDIS_URL: 'redis://127.0.0.1:6379',
  ADMINER_DEFAULT_SERVER: '127.0.0.1',
  POSTGRES_USER: 'postgres',
  ADMINER_PHP: '/usr/share/adminer/adminer.php',
  SPA_ROOT: path.join(root, 'web', 'dist'),
  ACCESS_LOG: path.join(root, '.data', 'stack', 'access.log'),
  API_MODE: 'production',
  SESSION_COOKIE_SECURE: 'false',
  TRUSTED_PROXIES: '127.0.0.1',
  ...process.env,
}
const wsPorts = env.WS_PORTS.split(',')
const stackDir = env.STACK_DIR
mkdirSync(path.join(stackDir, 'tmp'), { recursive: true })

writeFileSync(
  path.join(stackDir, 'default.conf'),
  renderNginx({
    ...env,
    API_SERVERS: `server 127.0.0.1:${env.API_PORT};`,
    WS_SERVERS: wsPorts.map((port) => `server 127.0.0.1:${port};`).join(' '),
    ADMINER_SERVER: `127.0.0.1:${env.ADMINER_PORT}`,
    SPA_UPSTREAM: `127.0.0.1:${env.SPA_STATIC_PORT}`,
  }),
)
// what the nginx image's own nginx.conf gives the template: an http block, plus paths a non-root user may write
writeFileSync(
  path.join(stackDir, 'nginx.conf'),
  `worker_processes 1;
pid ${stackDir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  client_body_temp_path ${stackDir}/tmp/body;
  proxy_temp_path ${stackDir}/tmp/proxy;
  fastcgi_temp_path ${stackDir}/tmp/fastcgi;
  uwsgi_temp_path ${stackDir}/tmp/uwsgi;
  scgi_temp_path ${stackDir}/tmp/scgi;
  include ${stackDir}/default.conf;
}
`,
)

const server = (role, port) => ({
  name: role === 'api' ? 'api' : `ws-${port}`,
  command: `node --import tsx src/main.ts ${role}`,
  cwd: path.join(root, 'server'),
  env: { ...env, HOST: '127.0.0.1', PORT: port, MIGRATE_ON_START: 'true' },
})

const { result, commands } = concurrently(
  [
    { name: 'nginx', command: `nginx -p ${stackDir} -c ${stackDir}/nginx.conf -g "daemon off;"` },
    {
      name: 'adminer',
      command: `php -S 127.0.0.1:${env.ADMINER_PORT} ${path.join(root, 'docker', 'adminer-router.php')}`,
      env: { ...env },
    },
    server('api', env.API_PORT),
    ...wsPorts.map((port) => server('ws', port)),
  ],
  { killOthersOn: ['failure', 'success'], prefix: 'name', killSignal: 'SIGTERM' },
)
console.log(`stack: http://127.0.0.1:${env.NGINX_PORT}/ (nginx), config in ${stackDir}`)
// concurrently forwards Ctrl+C itself; a SIGTERM (from a test or a supervisor) must stop the children too
for (const signal of ['SIGTERM', 'SIGHUP'])
  process.on(signal, () => commands.forEach((command) => command.kill('SIGTERM')))
await result.catch(() => {
  process.exitCode = 1
})
