import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import spaPlugin, { SPA_SECURITY_HEADERS } from './spa-plugin.ts'

describe('the embedded server serving the built SPA', () => {
  const script = 'console.log("the chat");'.repeat(50)
  let root: string
  let app: FastifyInstance

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'spa-'))
    mkdirSync(path.join(root, 'assets'))
    const asset = path.join(root, 'assets', 'index-Abc123.js')
    writeFileSync(asset, script)
    writeFileSync(`${asset}.br`, brotliCompressSync(script))
    writeFileSync(`${asset}.gz`, gzipSync(script))
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Chat</title>')
    writeFileSync(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
    app = Fastify()
    await app.register(spaPlugin, { root })
  })
  afterAll(async () => {
    await app.close()
    rmSync(root, { recursive: true, force: true })
  })

  const get = (url: string, acceptEncoding?: string) =>
    app.inject({ url, headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} })

  it('sends a hashed asset precompressed, as the browser accepts, cached for a year', async () => {
    const brotli = await get('/app/assets/index-Abc123.js', 'gzip, deflate, br')
    expect(brotli.statusCode).toBe(200)
    expect(brotli.headers['content-encoding']).toBe('br')
    expect(brotli.headers.vary).toMatch(/accept-encoding/i)
    expect(brotli.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(brotli.rawPayload.equals(brotliCompressSync(script))).toBe(true)

    const gzip = await get('/app/assets/index-Abc123.js', 'gzip')
    expect(gzip.headers['content-encoding']).toBe('gzip')
    expect(gzip.rawPayload.equals(gzipSync(script))).toBe(true)

    const plain = await get('/app/assets/index-Abc123.js')
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body).toBe(script)
  })

  it('revalidates index.html, for /app/ and for any deep link, with the security headers nginx sets', async () => {
    for (const url of ['/app/', '/app/rooms/general', '/app/login']) {
      const response = await get(url, 'br')
      expect(response.statusCode).toBe(200)
      expect(response.headers['cache-control']).toBe('no-cache')
      expect(response.headers).toMatchObject(SPA_SECURITY_HEADERS)
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'")
    }
  })

  it('has a favicon, and says 404 for an asset that does not exist', async () => {
    const favicon = await get('/app/favicon.svg')
    expect(favicon.statusCode).toBe(200)
    expect(favicon.headers['content-type']).toContain('image/svg+xml')
    expect(favicon.headers['cache-control']).toBe('no-cache')
    expect(favicon.headers).toMatchObject(SPA_SECURITY_HEADERS)
    expect((await get('/app/assets/gone-123.js')).statusCode).toBe(404)
  })
})
