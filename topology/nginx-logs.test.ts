import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Agent, fetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderNginx, renderNginxMain } from '../scripts/render-nginx.mjs'
import { refusedStatus } from '@chat/server/testing'
import { freePort } from '@chat/server/testing'
import { makeTestCertificate } from './stack-under-test.ts'

/**
 * nginx alone, from the same template, with every upstream on a port nobody listens on (each proxied
 * request fails, which is when nginx's error log quotes the request line and the upstream URL) and an
 * empty SPA directory.
 */
describe('nginx with its upstreams down and no SPA built', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stack-nginx-'))
  const logs = { access: path.join(dir, 'access.log'), error: path.join(dir, 'error.log') }
  let nginx: ChildProcess
  let dispatcher: Agent
  let base: string

  beforeAll(async () => {
    const [tlsPort, httpPort, deadPort, spaPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ]
    const tls = makeTestCertificate(path.join(dir, 'certs'))
    ca = tls.pem
    dispatcher = new Agent({ connect: { ca } })
    mkdirSync(path.join(dir, 'tmp'))
    writeFileSync(
      path.join(dir, 'default.conf'),
      renderNginx({
        NGINX_PORT: String(httpPort),
        NGINX_TLS_PORT: String(tlsPort),
        HTTPS_PUBLIC_PORT: String(tlsPort),
        TLS_CERTIFICATE: tls.certificate,
        TLS_CERTIFICATE_KEY: tls.key,
        ACCESS_LOG: logs.access,
        ERROR_LOG: logs.error,
        API_SERVERS: `server 127.0.0.1:${deadPort};`,
        WS_SERVERS: `server 127.0.0.1:${deadPort};`,
        ADMINER_SERVER: `127.0.0.1:${deadPort}`,
        GRAFANA_SERVER: `127.0.0.1:${deadPort}`,
        MAIL_UI_SERVER: `127.0.0.1:${deadPort}`,
        SPA_UPSTREAM: `127.0.0.1:${spaPort}`,
        SPA_STATIC_PORT: String(spaPort),
        SPA_ROOT: dir,
      }),
    )
    writeFileSync(path.join(dir, 'nginx.conf'), renderNginxMain(dir, logs.error))
    nginx = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
      stdio: 'inherit',
    })
    base = `https://127.0.0.1:${tlsPort}`
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        await fetch(`${base}/`, { dispatcher, redirect: 'manual' })
        break
      } catch (error) {
        if (Date.now() > deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  })
  afterAll(async () => {
    if (nginx?.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve))
      nginx.kill('SIGTERM')
      await exited
    }
    await dispatcher?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers 404, not a rewrite loop (500), for /app/ when no SPA is built', async () => {
    for (const pathname of ['/app/', '/app/login'])
      expect((await fetch(`${base}${pathname}`, { dispatcher })).status, pathname).toBe(404)
  })

  const secret = () => `SECRET${crypto.randomUUID().replaceAll('-', '')}`
  let ca: string
  /** the status of a WebSocket upgrade (as a client opens one) and of a plain GET */
  const statuses = async (target: string) => [
    await refusedStatus(target.replace('https:', 'wss:'), undefined, { ca }),
    (await fetch(target, { dispatcher })).status,
  ]

  it('writes no legacy ?token= (however spelled) to the error or the access log, and still logs the failure', async () => {
    const secrets: string[] = []
    const queries = [
      (token: string) => `token=${token}`,
      (token: string) => `%74oken=${token}`,
      (token: string) => `room=general&token=${token}`,
    ]
    for (const query of queries) {
      const token = secret()
      secrets.push(token)
      expect(await statuses(`${base}/ws?${query(token)}`)).toEqual([502, 502])
    }
    // a token sent to a path nginx routes nothing to fails without a trace of it either
    for (const pathname of ['/ws/', '/nothing', '/ws/../nothing']) {
      const token = secret()
      secrets.push(token)
      await fetch(`${base}${pathname}?token=${token}`, { dispatcher })
    }
    // the same failure without a query is still reported in full, so the log above is not simply off
    expect(await refusedStatus(`${base.replace('https:', 'wss:')}/ws`, undefined, { ca })).toBe(502)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const errorLog = readFileSync(logs.error, 'utf8')
    const accessLog = readFileSync(logs.access, 'utf8')
    expect(errorLog).toMatch(/request: "GET \/ws HTTP\/1\.1"/)
    expect(accessLog).toMatch(/"GET \/ws HTTP\/1\.1" 502 .* upstream=127\.0\.0\.1:\d+/)
    expect(accessLog.match(/"GET \/ws HTTP\/1\.1" 502/g)).toHaveLength(queries.length * 2 + 1)
    for (const token of secrets) {
      expect(errorLog).not.toContain(token)
      expect(accessLog).not.toContain(token)
    }
  })
})
