import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnServer } from './test/server-process.ts'

const serverDir = path.resolve(import.meta.dirname, '..')

describe('the production build (npm run build)', () => {
  // inside the repository, so the bundle finds node_modules as dist/bin does
  const cache = path.join(serverDir, 'node_modules', '.cache')
  mkdirSync(cache, { recursive: true })
  const outdir = mkdtempSync(path.join(cache, 'build-test-'))
  afterAll(() => rmSync(outdir, { recursive: true, force: true }))

  it('bundles the server into plain JavaScript that starts and answers with plain node, no tsx', async () => {
    execFileSync(process.execPath, ['build.mjs', outdir], { cwd: serverDir, stdio: 'pipe' })
    const bundle = readFileSync(path.join(outdir, 'main.js'), 'utf8')
    // our own TypeScript inlined (the contract too), npm packages left to node_modules
    expect(bundle).not.toMatch(/from ["'][^"']*\.ts["']/)
    expect(bundle).toMatch(/from "fastify"/)
    const server = spawnServer(
      { PGLITE_DATA_DIR: 'memory://', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      [],
      [path.join(outdir, 'main.js')],
    )
    try {
      const api = await server.ready()
      expect(await (await fetch(api)).json()).toEqual({ hello: 'world' })
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })
})
