import type { FastifyReply, FastifyRequest } from 'fastify'

/** As nginx's lingering close: long enough for a client on a slow link to finish sending, then no more. */
const DRAIN_MAX_MS = 10_000
const DRAIN_MAX_BYTES = 64 * 1024 * 1024

/**
 * An answer sent before the request body has arrived (a 413 on its Content-Length) would otherwise close
 * the connection with the body unread: the kernel then resets it, and a client still sending (Node's
 * fetch) loses the answer and sees EPIPE. So the rest of the body is read and dropped, within bounds
 * (time and bytes), the connection staying open meanwhile; a client that keeps sending past them is cut off.
 */
export function drainUnreadBody(request: FastifyRequest, reply: FastifyReply): void {
  const incoming = request.raw
  // an injected request (tests) has no connection to drain
  if (incoming.complete || typeof incoming.socket?.destroy !== 'function') return
  reply.removeHeader('connection')
  let drained = 0
  const cutOff = () => incoming.socket.destroy()
  const deadline = setTimeout(cutOff, DRAIN_MAX_MS)
  deadline.unref()
  incoming.on('data', (chunk: Buffer) => {
    drained += chunk.length
    if (drained > DRAIN_MAX_BYTES) cutOff()
  })
  incoming.once('close', () => clearTimeout(deadline))
  incoming.resume()
}
