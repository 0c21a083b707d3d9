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

/** Where the time from publish to receipt goes (the app's `chat_bus_lag_seconds`). */
export interface LagObserver {
  observe(seconds: number): void
}

/** Each channel's handlers, in the order they subscribed. */
export class Subscriptions {
  private readonly handlers = new Map<string, Set<BusHandler>>()

  constructor(private readonly lag?: LagObserver) {}

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

  /**
   * `publishedAt`: the publisher's clock (ms; processes of one deployment share NTP time); undefined for
   * a payload nobody stamped (Redis's own PUBLISH from a session script), which has no lag to tell
   */
  deliver(channel: string, message: string, publishedAt?: number): void {
    if (publishedAt !== undefined) this.lag?.observe(Math.max(0, Date.now() - publishedAt) / 1000)
    for (const handler of this.handlers.get(channel) ?? []) handler(message)
  }
}

/** The embedded default: one process, no Redis; also the bus of unit tests. */
export class LocalBus implements Bus {
  private readonly subscriptions: Subscriptions

  constructor(lag?: LagObserver) {
    this.subscriptions = new Subscriptions(lag)
  }

  async publish(channel: string, message: string): Promise<void> {
    const publishedAt = Date.now()
    // delivered on a later tick, as from Redis, so no publisher sees its own message re-entrantly
    queueMicrotask(() => this.subscriptions.deliver(channel, message, publishedAt))
  }
  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    this.subscriptions.add(channel, handler)
  }
  async unsubscribe(channel: string, handler: BusHandler): Promise<void> {
    this.subscriptions.remove(channel, handler)
  }
  // one process: the bus is never lost, so never regained
  onResubscribed(_listener: () => void): void {}
  async close(): Promise<void> {}
}
