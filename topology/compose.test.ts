import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { Ajv } from 'ajv'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '@chat/server'
import { renderNginx } from '../scripts/render-nginx.mjs'
import { interpolate, loadComposeFile, MissingVariableError } from './compose-files.ts'

const root = path.resolve(import.meta.dirname, '..')
// The Compose Specification's JSON schema, vendored: see vendor/README.md for where it comes from.
const schema = JSON.parse(readFileSync(path.join(import.meta.dirname, 'vendor', 'compose-spec.json'), 'utf8'))
const validate = new Ajv({
  allErrors: true,
  strict: false,
  validateSchema: false,
  validateFormats: false,
}).compile(schema)

/** What a deployment's .env holds: .env.example with the secrets it leaves to the operator. */
const deploymentEnv = {
  ...parseEnv(readFileSync(path.join(root, '.env.example'), 'utf8')),
  API_MODE: 'production',
  API_ADMIN_PASSWORD: 'a-real-admin-password',
  POSTGRES_SUPERUSER_PASSWORD: 'a-real-superuser-password',
  REDIS_PASSWORD: 'aRealRedisPassword1',
}
const production = () => loadComposeFile('compose.yml', deploymentEnv)

function schemaErrors(document: unknown): string[] {
  return validate(document) ? [] : validate.errors!.map((error) => `${error.instancePath} ${error.message}`)
}

describe('the compose files, checked without Docker', () => {
  it('follow the Compose Specification schema, the dev override included', () => {
    expect(schemaErrors(production())).toEqual([])
    expect(schemaErrors(loadComposeFile('compose.override.yml', deploymentEnv))).toEqual([])
    // and the check can fail: a port list written as a number is not compose
    const broken = production()
    ;(broken.services.nginx as Record<string, unknown>).ports = 80
    expect(schemaErrors(broken).join('\n')).toMatch(/\/services\/nginx\/ports/)
  })

  it('define the nine services, and only nginx publishes ports: HTTP and HTTPS', () => {
    const compose = production()
    expect(Object.keys(compose.services).sort()).toEqual(
      ['adminer', 'api', 'app', 'db', 'grafana', 'mailpit', 'nginx', 'prometheus', 'redis', 'ws'].sort(),
    )
    const publishing = Object.entries(compose.services).filter(([, service]) => service.ports)
    expect(publishing.map(([name]) => name)).toEqual(['nginx'])
    expect(compose.services.nginx!.ports).toEqual(['80:8080', '443:8443'])
    expect(compose.networks!.internal!.internal).toBe(true)
  })

  it('refuse to run without the variables a deployment must choose, naming them', () => {
    const missing = (env: Record<string, string>) => {
      try {
        loadComposeFile('compose.yml', env)
      } catch (error) {
        if (error instanceof MissingVariableError) return error.message
        throw error
      }
      return 'nothing missing'
    }
    expect(missing({ API_MODE: 'production' })).toMatch(
      /required variable \w+ is missing a value: set \w+ in \.env/,
    )
    for (const name of [
      'API_ADMIN_PASSWORD',
      'POSTGRES_SUPERUSER_PASSWORD',
      'REDIS_PASSWORD',
      'POSTGRES_PASSWORD',
    ])
      expect(missing({ ...deploymentEnv, [name]: '' })).toContain(`variable ${name} is missing`)
  })

  it('interpolate as compose does', () => {
    const env = { SET: 'value', EMPTY: '' }
    expect(interpolate('${SET:-d} ${EMPTY:-d} ${UNSET:-d} ${EMPTY-d} ${UNSET-d}', env)).toBe('value d d  d')
    expect(interpolate('$$SET $SET ${UNSET:-${SET}} ${SET:+yes} ${EMPTY:+yes}', env)).toBe(
      '$SET value value yes ',
    )
    expect(() => interpolate('${EMPTY:?say why}', env)).toThrow(MissingVariableError)
    expect(interpolate('${EMPTY?say why}', env)).toBe('')
    expect(() => interpolate('${UNSET?say why}', env)).toThrow(/UNSET is missing a value: say why/)
  })

  it('give nginx every variable its template needs, TLS from a read-only certificate directory', () => {
    const nginx = production().services.nginx!
    expect(() => renderNginx(nginx.environment)).not.toThrow()
    expect(nginx.environment!.TLS_CERTIFICATE).toMatch(/^\/etc\/nginx\/certs\//)
    expect(nginx.volumes).toContain('./.data/certs:/etc/nginx/certs:ro')
  })

  it('send the session cookie Secure, as __Host-session, unless the operator says otherwise', () => {
    for (const role of ['api', 'ws']) {
      const config = loadConfig(production().services[role]!.environment!)
      expect(config.session).toMatchObject({ cookieSecure: true, cookieName: '__Host-session' })
    }
  })

  it("believe X-Forwarded-For from nginx's fixed address only", () => {
    const compose = production()
    const nginxNetworks = compose.services.nginx!.networks as Record<string, { ipv4_address?: string }>
    const address = nginxNetworks.web!.ipv4_address!
    const subnet = compose.networks!.web!.ipam!.config![0]!.subnet!
    expect(address.split('.').slice(0, 3)).toEqual(subnet.split('/')[0]!.split('.').slice(0, 3))
    expect(subnet).toMatch(/\/24$/)
    for (const role of ['api', 'ws'])
      expect(compose.services[role]!.environment!.TRUSTED_PROXIES).toBe(address)
  })

  it('put Redis behind a password that the app and the healthcheck use', () => {
    const { redis, api, ws } = production().services
    const password = deploymentEnv.REDIS_PASSWORD
    const command = redis!.command!
    expect(command[command.indexOf('--requirepass') + 1]).toBe(password)
    expect(redis!.environment!.REDISCLI_AUTH).toBe(password)
    for (const app of [api!, ws!]) expect(new URL(app.environment!.REDIS_URL!).password).toBe(password)
  })

  it('check readiness (/api/health/ready) in every healthcheck of api, ws and nginx', () => {
    const ready = /\/api\/health\/ready/
    expect(readFileSync(path.join(root, 'Dockerfile'), 'utf8')).toMatch(
      /HEALTHCHECK[^\n]*\\\n[^\n]*\/api\/health\/ready/,
    )
    const dev = loadComposeFile('compose.override.yml', deploymentEnv).services
    for (const service of [dev.api!, dev.ws!, production().services.nginx!])
      expect(JSON.stringify(service.healthcheck?.test)).toMatch(ready)
  })

  it('give api and ws a metrics port that nothing publishes, and a drain that fits the stop grace period', () => {
    const compose = production()
    for (const name of ['api', 'ws']) {
      const service = compose.services[name]!
      expect(service.environment!.METRICS_PORT).toBe('9464')
      expect(service.ports).toBeUndefined()
      const drain = Number(service.environment!.SHUTDOWN_DRAIN_SECONDS)
      expect(drain).toBeGreaterThan(0)
      expect(drain + 10).toBeLessThanOrEqual(parseInt(String(service.stop_grace_period), 10))
    }
    // Prometheus sits on the internal network only; Grafana is reached through nginx, read-only
    expect(compose.services.prometheus!.networks).toEqual(['internal'])
    expect(compose.services.grafana!.environment).toMatchObject({
      GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
      GF_AUTH_DISABLE_LOGIN_FORM: 'true',
      GF_SERVER_SERVE_FROM_SUB_PATH: 'true',
    })
    // mail goes to the bundled catcher unless SMTP_URL names a relay; its inbox only through nginx's /mail/
    expect(compose.services.api!.environment).toMatchObject({ SMTP_URL: 'smtp://mailpit:1025' })
    expect(compose.services.mailpit!.ports).toBeUndefined()
    expect(compose.services.mailpit!.environment).toMatchObject({ MP_WEBROOT: '/mail/' })
    expect(compose.services.nginx!.environment).toMatchObject({ MAIL_UI_SERVER: 'mailpit:8025' })
  })

  it('pin every image, in compose and in the Dockerfiles, to an exact version', () => {
    const exact = /^[a-z0-9./_-]+:v?\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?(@sha256:[0-9a-f]{64})?$/
    const images: string[] = []
    for (const file of ['compose.yml', 'compose.override.yml'])
      for (const service of Object.values(loadComposeFile(file, deploymentEnv).services))
        if (service.image) images.push(service.image)
    for (const file of ['Dockerfile', 'docker/adminer.Dockerfile']) {
      const stages = new Set<string>()
      for (const [, image, stage] of readFileSync(path.join(root, file), 'utf8').matchAll(
        /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/gim,
      )) {
        if (!stages.has(image!)) images.push(image!)
        if (stage) stages.add(stage)
      }
    }
    expect(images.length).toBeGreaterThanOrEqual(5)
    expect(images.filter((image) => !exact.test(image))).toEqual([])
  })
})

describe('the database role the app uses', () => {
  it('is not the superuser the db image makes', () => {
    const { db, api, ws } = production().services
    const superuser = db!.environment!.POSTGRES_USER
    for (const app of [api!, ws!]) {
      expect(app.environment!.POSTGRES_USER).not.toBe(superuser)
      expect(app.environment!.POSTGRES_USER).toBe(db!.environment!.APP_POSTGRES_USER)
      expect(app.environment!.POSTGRES_DB).toBe(db!.environment!.APP_POSTGRES_DB)
    }
    expect(db!.volumes).toContain('./docker/postgres-init.sh:/docker-entrypoint-initdb.d/10-app-role.sh:ro')
  })

  it('is made by docker/postgres-init.sh without superuser rights, owns its database and can migrate it', async () => {
    const suffix = crypto.randomUUID().slice(0, 8)
    const names = { role: `app_${suffix}`, database: `app_${suffix}`, testDatabase: `app_${suffix}_test` }
    const admin = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'postgres' })
    await admin.connect()
    try {
      // as the postgres image runs it: as the superuser, with the service's environment
      execFileSync('sh', [path.join(root, 'docker', 'postgres-init.sh')], {
        env: {
          ...process.env,
          PGHOST: '127.0.0.1',
          POSTGRES_USER: 'postgres',
          APP_POSTGRES_USER: names.role,
          APP_POSTGRES_PASSWORD: "a password with ' and \\",
          APP_POSTGRES_DB: names.database,
          APP_POSTGRES_TEST_DB: names.testDatabase,
        },
        stdio: 'pipe',
      })
      const role = await admin.query(
        'SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1',
        [names.role],
      )
      expect(role.rows).toEqual([
        {
          rolsuper: false,
          rolcreatedb: false,
          rolcreaterole: false,
          rolreplication: false,
          rolbypassrls: false,
        },
      ])
      const owners = await admin.query(
        'SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = ANY($1) ORDER BY 1',
        [[names.database, names.testDatabase]],
      )
      expect(owners.rows).toEqual([
        { datname: names.database, owner: names.role },
        { datname: names.testDatabase, owner: names.role },
      ])
      // the app's own migrations, as that role
      execFileSync(process.execPath, ['--import', 'tsx', 'src/db/migrate-cli.ts', 'latest'], {
        cwd: path.join(root, 'server'),
        env: {
          ...process.env,
          DATABASE_URL: `postgres://${names.role}@127.0.0.1:5432/${names.database}`,
          LOG_LEVEL: 'warn',
        },
        stdio: 'pipe',
      })
      const app = new pg.Client({ host: '127.0.0.1', user: names.role, database: names.database })
      await app.connect()
      const tables = await app.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
      await app.end()
      expect(tables.rows.map((row: { tablename: string }) => row.tablename)).toContain('users')
    } finally {
      for (const database of [names.database, names.testDatabase])
        await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
      await admin.query(`DROP ROLE IF EXISTS "${names.role}"`)
      await admin.end()
    }
  })
})
