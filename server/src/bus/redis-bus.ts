import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import type { Metrics } from '../metrics/metrics.ts'
import { Subscriptions, type Bus, type BusHandler } from './bus.ts'

/**
 * On the wire each payload is `@<publish time, ms>\n<message>`, so every receiver can measure the bus's
 * lag. A payload without the stamp (a session script's PUBLISH, or a process older than this envelope) is
 * taken as it is.
 */
const stamp = (message: string) => `@${Date.now()}\n${message}`

function unstamp(payload: string): { message: string; publishedAt: number | undefined } {
  const newline = payload.indexOf('\n')
  const publishedAt = payload.startsWith('@') && newline > 0 ? Number(payload.slice(1, newline)) : NaN
  return Number.isFinite(publishedAt)
    ? { message: payload.slice(newline + 1), publishedAt }
    : { message: payload, publishedAt: undefined }
}

/** Redis pub/sub: the bus between the processes of a deployment. */
export class RedisBus implements Bus {
  private readonly subscriptions: Subscriptions
  private readonly subscriber: Redis
  private readonly resubscribedListeners: (() => void)[] = []
  private connectedOnce = false

  /** `publisher` is the shared command connection; subscribing takes a connection of its own. */
  constructor(
    private readonly publisher: Redis,
    url: string,
    private readonly log: FastifyBaseLogger,
    metrics: Pick<Metrics, 'busLag' | 'redisErrors'>,
  ) {
    this.subscriptions = new Subscriptions(metrics.busLag)
    // no offline queue: while Redis is away (un)subscribing fails at once instead of hanging a join or a shutdown
    this.subscriber = new Redis(url, { lazyConnect: true, enableOfflineQueue: false })
    this.subscriber.on('message', (channel: string, payload: string) => {
      const { message, publishedAt } = unstamp(payload)
      this.subscriptions.deliver(channel, message, publishedAt)
    })
    // reconnects by itself; the publisher's errors are logged at warn, so this one only at debug
    this.subscriber.on('error', (error) => {
      metrics.redisErrors.inc({ connection: 'subscriber' })
      this.log.debug({ err: error }, 'redis subscriber connection error')
    })
    this.subscriber.on('ready', () => {
      if (this.connectedOnce) this.resubscribedListeners.forEach((listener) => listener())
      this.connectedOnce = true
    })
  }

  async connect(): Promise<void> {
    await this.subscriber.connect()
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(channel, stamp(message))
  }
  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (this.subscriptions.add(channel, handler)) await this.subscriber.subscribe(channel)
  }
  async unsubscribe(channel: string, handler: BusHandler): Promise<void> {
    if (!this.subscriptions.remove(channel, handler)) return
    try {
      await this.subscriber.unsubscribe(channel)
    } catch (error) {
      // Redis is away: its reconnect subscribes only to the channels still held, so nothing is lost
      this.log.debug({ err: error, channel }, 'unsubscribe while Redis is away')
    }
  }
  onResubscribed(listener: () => void): void {
    this.resubscribedListeners.push(listener)
  }
  async close(): Promise<void> {
    this.subscriber.disconnect()
  }
}
