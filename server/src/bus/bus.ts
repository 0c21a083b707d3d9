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

/** Each channel's handlers, in the order they subscribed. */
export class Subscriptions {
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

/** The embedded default: one process, no Redis; also the bus of unit tests. */
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
  // one process: the bus is never lost, so never regained
  onResubscribed(_listener: () => void): void {}
  async close(): Promise<void> {}
}
