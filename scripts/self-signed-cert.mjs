// A self-signed TLS certificate for a laptop or a test: CN localhost, valid for localhost and 127.0.0.1.
// Kept as it is when the pair already exists in the directory. `make certs` and `make stack` use it.
// usage: node scripts/self-signed-cert.mjs <directory>
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'

/** Makes `cert.pem` and `key.pem` in `dir` unless both are there; returns their paths. */
export function ensureSelfSignedCertificate(dir) {
  const certificate = path.join(dir, 'cert.pem')
  const key = path.join(dir, 'key.pem')
  if (existsSync(certificate) && existsSync(key)) return { certificate, key, created: false }
  mkdirSync(dir, { recursive: true })
  // prettier-ignore
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256',
    '-days', '365', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', certificate,
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  // nginx in the container runs as uid 101, not the owner of the mounted file: it must be able to read it
  chmodSync(key, 0o644)
  return { certificate, key, created: true }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [dir] = process.argv.slice(2)
  if (!dir) {
    console.error('usage: node scripts/self-signed-cert.mjs <directory>')
    process.exit(2)
  }
  const { certificate, key, created } = ensureSelfSignedCertificate(path.resolve(dir))
  console.log(created ? `made ${certificate} and ${key} (self-signed, localhost)` : `kept ${certificate}`)
}
