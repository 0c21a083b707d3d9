import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { makeTestCertificate } from '../../topology/stack-under-test.ts'

/**
 * Vitest global setup for the run through nginx (E2E_STACK=1): one self-signed certificate for the stack's
 * HTTPS, made before the test processes start so that they trust it from their first line
 * (NODE_EXTRA_CA_CERTS is read only then): the tests' fetch and Playwright's route.fetch alike. Chromium
 * accepts it by its SPKI fingerprint (browser.ts).
 */
export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'stack-tls-'))
  const tls = makeTestCertificate(dir)
  process.env.NODE_EXTRA_CA_CERTS = tls.certificate
  process.env.E2E_TLS_CERTIFICATE = tls.certificate
  process.env.E2E_TLS_CERTIFICATE_KEY = tls.key
  return () => rmSync(dir, { recursive: true, force: true })
}
