import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { freePort } from '@chat/server/testing'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Agent, fetch as undiciFetch, type RequestInit, type Response } from 'undici'

const root = path.resolve(import.meta.dirname, '..')
/** what scripts/stack.mjs prints when a rolling restart of the ws processes ends, or gives up */
const ROLLING_DONE = 'stack: rolling restart of the ws processes done'
const ROLLING_STOPPED = 'stack: rolling restart stopped'

/** A self-signed certificate for 127.0.0.1 and localhost in `dir`, made by openssl as `make certs` does. */
export function makeTestCertificate(dir: string): { certificate: string; key: string; pem: string } {
  mkdirSync(dir, { recursive: true })
  const certificate = path.join(dir, 'cert.pem')
  const key = path.join(dir, 'key.pem')
  // prettier-ignore
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', certificate,
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  return { certificate, key, pem: readFileSync(certificate, 'utf8') }
}

/** Chromium's --ignore-certificate-errors-spki-list value for a certificate: base64 SHA-256 of its key. */
export function spkiFingerprint(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(spki).digest('base64')
}

export interface StackUnderTest {
  /** https://127.0.0.1:<port>: nginx's TLS side */
  url: string
  /** Adminer's own address, behind nginx */
  adminerUrl: string
  /** http://127.0.0.1:<port>: nginx's plain side, which only redirects */
  httpUrl: string
  dir: string
  /** the stack's self-signed certificate (PEM), to trust */
  ca: string
  /** an undici dispatcher that trusts the stack's certificate */
  dispatcher: Agent
  /** fetch that trusts the stack's certificate */
  fetch(url: string, init?: RequestInit): Promise<Response>
  wsPorts: number[]
  /** what the processes printed, for a failure's message */
  output(): string
  restart(downMs: number): Promise<void>
  /** `make restart-stack-ws`: the ws processes restarted one at a time; resolves when the last is ready */
  restartWs(): Promise<void>
  /** stops every process and removes the stack's directory */
  stop(): Promise<void>
}

/**
 * `make stack` on free ports, in a directory of its own, against the given backends: nginx (HTTPS with a
 * certificate made here or the given one, or with `makesItsOwnCertificate` the one `make stack` makes), Adminer under
 * php -S, one api and two ws processes. Resolves once nginx, the api and both ws processes answer.
 */
export async function startStack(
  env: Record<string, string>,
  {
    makesItsOwnCertificate = false,
    certificate,
  }: { makesItsOwnCertificate?: boolean; certificate?: { certificate: string; key: string } } = {},
): Promise<StackUnderTest> {
  if (!existsSync(path.join(root, 'web', 'dist', 'index.html')))
    throw new Error('build the SPA first: npm run build -w web')
  const ports = {
    nginx: await freePort(),
    tls: await freePort(),
    api: await freePort(),
    ws: [await freePort(), await freePort()],
    adminer: await freePort(),
    spa: await freePort(),
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'stack-'))
  const tls = makesItsOwnCertificate
    ? undefined
    : certificate
      ? { ...certificate, pem: readFileSync(certificate.certificate, 'utf8') }
      : makeTestCertificate(path.join(dir, 'test-certs'))
  const stackCertificate = path.join(dir, 'certs', 'cert.pem')
  let trusted: { ca: string; dispatcher: Agent } | undefined = tls && {
    ca: tls.pem,
    dispatcher: new Agent({ connect: { ca: tls.pem } }),
  }
  const trust = () => {
    if (!trusted && existsSync(stackCertificate)) {
      const ca = readFileSync(stackCertificate, 'utf8')
      trusted = { ca, dispatcher: new Agent({ connect: { ca } }) }
    }
    if (!trusted) throw new Error(`no certificate yet at ${stackCertificate}`)
    return trusted
  }
  const fetchTrusting = (url: string, init: RequestInit = {}) =>
    undiciFetch(url, url.startsWith('https:') ? { ...init, dispatcher: trust().dispatcher } : init)
  const url = `https://127.0.0.1:${ports.tls}`
  let child: ChildProcess | undefined
  let output = ''
  const waitUntilUp = async (target: string, deadline: number) => {
    while (Date.now() < deadline) {
      try {
        if ((await fetchTrusting(target)).ok) return
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    throw new Error(`${target} did not come up`)
  }
  const start = async () => {
    child = spawn(process.execPath, [path.join(root, 'scripts', 'stack.mjs')], {
      cwd: root,
      env: {
        ...process.env,
        STACK_DIR: dir,
        ACCESS_LOG: path.join(dir, 'access.log'),
        ERROR_LOG: path.join(dir, 'error.log'),
        NGINX_PORT: String(ports.nginx),
        NGINX_TLS_PORT: String(ports.tls),
        TLS_CERTIFICATE: tls?.certificate ?? '',
        TLS_CERTIFICATE_KEY: tls?.key ?? '',
        API_PORT: String(ports.api),
        WS_PORTS: ports.ws.join(','),
        ADMINER_PORT: String(ports.adminer),
        SPA_STATIC_PORT: String(ports.spa),
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (chunk) => (output += chunk))
    child.stderr!.on('data', (chunk) => (output += chunk))
    const deadline = Date.now() + 90_000
    const up = [ports.api, ...ports.ws].map((port) =>
      waitUntilUp(`http://127.0.0.1:${port}/api/health`, deadline),
    )
    await Promise.all([...up, waitUntilUp(`${url}/app/`, deadline)])
  }
  const stopProcesses = async () => {
    const running = child
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGTERM')
    const timer = setTimeout(() => running.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(timer)
  }
  const stop = async () => {
    await stopProcesses()
    await trusted?.dispatcher.close()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await start()
  } catch (error) {
    await stop()
    throw new Error(`${String(error)}\n${output}`, { cause: error })
  }
  return {
    url,
    adminerUrl: `http://127.0.0.1:${ports.adminer}`,
    httpUrl: `http://127.0.0.1:${ports.nginx}`,
    dir,
    ca: trust().ca,
    dispatcher: trust().dispatcher,
    fetch: fetchTrusting,
    wsPorts: ports.ws,
    output: () => output,
    restartWs: async () => {
      const doneBefore = output.split(ROLLING_DONE).length
      child!.kill('SIGUSR2')
      const deadline = Date.now() + 120_000
      while (output.split(ROLLING_DONE).length === doneBefore) {
        if (output.includes(ROLLING_STOPPED) || Date.now() > deadline)
          throw new Error(`the rolling restart did not finish:\n${output}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    restart: async (downMs) => {
      await stopProcesses()
      await new Promise((resolve) => setTimeout(resolve, downMs))
      await start()
    },
    stop,
  }
}
