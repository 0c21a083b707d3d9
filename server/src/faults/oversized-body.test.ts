import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testPgliteDir } from '../test/pglite-template.ts'
import { spawnServer, type ServerProcess } from '../test/server-process.ts'

// The embedded server as `npm start` runs it, in a process of its own, so the client's timing is real.
describe('a request body over the limit', () => {
  let server: ServerProcess | undefined
  let url: string
  let database: ReturnType<typeof testPgliteDir> | undefined
  // the start (tsx compiling the server) is a hook's, with its longer timeout: on a busy machine it alone
  // has taken most of a test's 30 s
  beforeAll(async () => {
    database = testPgliteDir()
    server = spawnServer({ PGLITE_DATA_DIR: database.dataDir, API_MODE: 'dev' })
    url = await server.ready()
  })
  afterAll(async () => {
    await server?.stop()
    database?.drop()
  })

  // A client still uploading when the 413 goes out must be able to read it: Node's fetch (undici) used to
  // lose it to the connection reset (EPIPE) that closing with the body unread causes, while curl got it.
  it('lets a fetch client that is still sending read its 413, and stops reading after 64 MiB', async () => {
    const total = 3 * 1024 * 1024
    const chunk = new Uint8Array(64 * 1024).fill(0x20)
    let sent = 0
    let pulls = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close()
        // hold this client's event loop while the 413 arrives, as a busy client would (before the fix,
        // the reset that followed it then destroyed the unread answer)
        if (++pulls === 4) for (const end = Date.now() + 300; Date.now() < end;);
        sent += chunk.length
        controller.enqueue(chunk)
      },
    })
    const response = await fetch(`${url}/v1.0/user/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(total) },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(response.status).toBe(413)
    expect(await response.json()).toEqual({ valid: false, data: 'The request body is too large' })

    // and a client that keeps sending is cut off after 64 MiB
    const { hostname, port } = new URL(url)
    const socket = connect(Number(port), hostname)
    let answer = ''
    socket.on('data', (data) => (answer += data))
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    const errors: string[] = []
    socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message))
    socket.write(
      `POST /api/v1.0/user/auth HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${2 ** 30}\r\n\r\n`,
    )
    const megabyte = Buffer.alloc(1024 * 1024, 0x20)
    let written = 0
    // bounded: 1 GiB at most, which the server must never take
    while (!socket.destroyed && written < 2 ** 30) {
      if (!socket.write(megabyte))
        await Promise.race([new Promise((drained) => socket.once('drain', drained)), closed])
      written += megabyte.length
    }
    await closed
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
    expect(written).toBeLessThan(100 * 1024 * 1024)
    expect(errors.every((code) => code === 'ECONNRESET' || code === 'EPIPE')).toBe(true)
  })
})
