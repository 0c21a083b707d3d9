import net, { type AddressInfo } from 'node:net'

export interface Forwarder {
  port: number
  /** closes the listener and cuts every connection through it, both ends */
  stop(): Promise<void>
  /** keeps every connection open but holds what goes through, as a stalled server or a partition does */
  freeze(): void
  /** delivers what was held, and relays again */
  thaw(): void
  /** cuts every connection and refuses new ones, as a stopped server does, until `restore` */
  cut(): void
  restore(): void
}

/** A TCP relay to `host:port`: stopping it is a network failure as the app sees it. */
export async function startForwarder(host: string, port: number): Promise<Forwarder> {
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  let frozen = false
  const held: { to: net.Socket; chunk: Buffer }[] = []
  const relay = (from: net.Socket, to: net.Socket) =>
    from.on('data', (chunk: Buffer) => (frozen ? held.push({ to, chunk }) : to.write(chunk)))
  let refusing = false
  const server = net.createServer((client) => {
    if (refusing) return client.destroy()
    const upstream = net.connect(port, host)
    track(client)
    track(upstream)
    const cut = () => {
      client.destroy()
      upstream.destroy()
    }
    for (const socket of [client, upstream]) {
      socket.once('error', cut)
      socket.once('close', cut)
    }
    relay(client, upstream)
    relay(upstream, client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  let stopped: Promise<void> | undefined
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => (frozen = true),
    thaw: () => {
      frozen = false
      for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk)
    },
    cut: () => {
      refusing = true
      for (const socket of sockets) socket.destroy()
    },
    restore: () => (refusing = false),
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })),
  }
}
