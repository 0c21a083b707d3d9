// Renders nginx/templates/*.template as the official nginx image does: only the named ${VARIABLES} are
// replaced (so nginx's own $variables stay), and a variable that is not set stops the render.
// usage: node scripts/render-nginx.mjs <output file>   (variables from the environment)
import { readFileSync, writeFileSync } from 'node:fs'

const VARIABLES = [
  'NGINX_PORT',
  'NGINX_TLS_PORT',
  'HTTPS_PUBLIC_PORT',
  'TLS_CERTIFICATE',
  'TLS_CERTIFICATE_KEY',
  'ACCESS_LOG',
  'ERROR_LOG',
  'API_SERVERS',
  'WS_SERVERS',
  'ADMINER_SERVER',
  'GRAFANA_SERVER',
  'MAIL_UI_SERVER',
  'SPA_ROOT',
  'SPA_UPSTREAM',
  'SPA_STATIC_PORT',
]

export function renderNginx(env = process.env) {
  const template = readFileSync(new URL('../nginx/templates/default.conf.template', import.meta.url), 'utf8')
  const missing = VARIABLES.filter((name) => !env[name])
  if (missing.length > 0) throw new Error(`render-nginx: set ${missing.join(', ')}`)
  return template.replace(/\$\{([A-Z_]+)\}/g, (whole, name) => (VARIABLES.includes(name) ? env[name] : whole))
}

/**
 * What the nginx image's own nginx.conf gives the template, for an nginx run by a non-root user from
 * `dir`: an http block, and pid and temporary files inside `dir`.
 */
export function renderNginxMain(dir, errorLog) {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${errorLog} warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  include ${dir}/default.conf;
}
`
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [output] = process.argv.slice(2)
  if (!output) {
    console.error('usage: node scripts/render-nginx.mjs <output file>')
    process.exit(2)
  }
  writeFileSync(output, renderNginx())
}
