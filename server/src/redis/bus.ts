import { Redis } from 'ioredis'

export type BusHandler = (message: string) => void

/**
 * Publish/subscribe between the processes of one deployment: Redis pub/sub, or, in the embedded default,
 * within this process. Handlers of one channel get its messages in the order they were published.
 */
export interface Bus {
  publish(channel: string, message: string): Promise<void>
  subscribe(channel: string, handler: BusHandler): Promise<void>
  unsubscribe(channel: string, handler: BusHandler): Promise<void>
  /** called after the bus lost and regained its connection: messages may have been missed meanwhile */
  onResubscribed(listener: () => void): void
  close(): Promise<void>
}

class Subscriptions {
  private readonly handlers = new Map<string, Set<BusHandler>>()

  /** true when this is the channel's first handler */
  add(channel: string, handler: BusHandler): boolean {
    const set = this.handlers.get(channel)
    if (set) {
      set.add(handler)
      return false
    }
    this.handlers.set(channel, new Set([handler]))
    return true
  }

  /** true when that was the channel's last handler */
  remove(channel: string, handler: BusHandler): boolean {
    const set = this.handlers.get(channel)
    if (!set?.delete(handler) || set.size > 0) return false
    this.handlers.delete(channel)
    return true
  }

  deliver(channel: string, message: string): void {
    for (const handler of this.handlers.get(channel) ?? []) handler(message)
  }
}

export class LocalBus implements Bus {
  private readonly subscriptions = new Subscriptions()

  async publish(channel: string, message: string): Promise<void> {
    // delivered on a later tick, as from Redis, so no publisher sees its own message re-entrantly
    queueMicrotask(() => this.subscriptions.deliver(channel, message))
  }
  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    this.subscriptions.add(channel, handler)
  }
  async unsubscribe(channel: string, handler: BusHandler): Promise<void> {
    this.subscriptions.remove(channel, handler)
  }
  onResubscribed(): void {}
  async close(): Promise<void> {}
}

export class RedisBus implements Bus {
  private readonly subscriptions = new Subscriptions()
  private readonly subscriber: Redis
  private readonly resubscribedListeners: (() => void)[] = []
  private connectedOnce = false

  /** `publisher` is the shared command connection; subscribing takes a connection of its own. */
  constructor(
    private readonly publisher: Redis,
    url: string,
  ) {
    // no offline queue: while Redis is away (un)subscribing fails at once instead of hanging a join or a shutdown
    this.subscriber = new Redis(url, { lazyConnect: true, enableOfflineQueue: false })
    this.subscriber.on('message', (channel: string, message: string) =>
      this.subscriptions.deliver(channel, message),
    )
    this.subscriber.on('error', () => {}) // reconnects by itself; the publisher's errors are logged
    this.subscriber.on('ready', () => {
      if (this.connectedOnce) this.resubscribedListeners.forEach((listener) => listener())
      this.connectedOnce = true
    })
  }

  async connect(): Promise<void> {
    await this.subscriber.connect()
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(channel, message)
  }
  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (this.subscriptions.add(channel, handler)) await this.subscriber.subscribe(channel)
  }
  async unsubscribe(channel: string, handler: BusHandler): Promise<void> {
    if (this.subscriptions.remove(channel, handler))
      await this.subscriber.unsubscribe(channel).catch(() => {})
  }
  onResubscribed(listener: () => void): void {
    this.resubscribedListeners.push(listener)
  }
  async close(): Promise<void> {
    this.subscriber.disconnect()
  }
}
