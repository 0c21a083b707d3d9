import type { FastifyBaseLogger } from 'fastify'
import { Redis, type Cluster } from 'ioredis'
import type { Metrics } from '../metrics/metrics.ts'
import { Subscriptions, type Bus, type BusHandler } from './bus.ts'

/**
 * On the wire each payload is `@<publish time, ms>\n<message>`, so every receiver can measure the bus's
 * lag. A payload without the stamp (a process older than this envelope) is taken as it is.
 */
const stamp = (message: string) => `@${Date.now()}\n${message}`

function unstamp(payload: string): { message: string; publishedAt: number | undefined } {
  const newline = payload.indexOf('\n')
  const publishedAt = payload.startsWith('@') && newline > 0 ? Number(payload.slice(1, newline)) : NaN
  return Number.isFinite(publishedAt)
    ? { message: payload.slice(newline + 1), publishedAt }
    : { message: payload, publishedAt: undefined }
}

/** The commands a bus needs, as one Redis (classic pub/sub) or a cluster (sharded pub/sub) offers them. */
interface PubSub {
  publish(channel: string, payload: string): Promise<unknown>
  subscribe(channel: string): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  connect(): Promise<void>
  close(): void
}

type BusMetrics = Pick<Metrics, 'busLag' | 'redisErrors'>

/** How long a cluster's sharded subscribers may take to reach every master at start. */
const SHARDED_SUBSCRIBERS_TIMEOUT_MS = 10_000

/** Redis pub/sub: the bus between the processes of a deployment. */
export class RedisBus implements Bus {
  private readonly subscriptions: Subscriptions
  private readonly resubscribedListeners: (() => void)[] = []
  private connectedOnce = false

  /**
   * One Redis: classic PUBLISH/SUBSCRIBE. `publisher` is the shared command connection; subscribing takes
   * a connection of its own, whose reconnect ('ready' again) means messages may have been missed.
   */
  static onOneRedis(publisher: Redis, url: string, log: FastifyBaseLogger, metrics: BusMetrics): RedisBus {
    // no offline queue: while Redis is away (un)subscribing fails at once instead of hanging a join or a shutdown
    const subscriber = new Redis(url, { lazyConnect: true, enableOfflineQueue: false })
    const bus: RedisBus = new RedisBus(
      {
        publish: (channel, payload) => publisher.publish(channel, payload),
        subscribe: (channel) => subscriber.subscribe(channel),
        unsubscribe: (channel) => subscriber.unsubscribe(channel),
        connect: () => subscriber.connect(),
        close: () => subscriber.disconnect(),
      },
      log,
      metrics,
    )
    subscriber.on('message', (channel: string, payload: string) => bus.receive(channel, payload))
    // reconnects by itself; the publisher's errors are logged at warn, so this one only at debug
    subscriber.on('error', (error) => {
      metrics.redisErrors.inc({ connection: 'subscriber' })
      log.debug({ err: error }, 'redis subscriber connection error')
    })
    subscriber.on('ready', () => bus.subscribersReady())
    return bus
  }

  /**
   * A Redis Cluster: SPUBLISH/SSUBSCRIBE, so a room's messages go to the one shard that owns its channel's
   * slot instead of being copied to every node (classic pub/sub in a cluster scales the wrong way). The
   * cluster client (created with `shardedSubscribers`) holds one subscriber connection per master and
   * subscribes again after a master comes back or slots move ('subscribersReady'): messages of that
   * shard may have been missed meanwhile.
   */
  static onCluster(cluster: Cluster, log: FastifyBaseLogger, metrics: BusMetrics): RedisBus {
    let ready: () => void = () => {}
    const firstReady = new Promise<void>((resolve) => (ready = resolve))
    const bus: RedisBus = new RedisBus(
      {
        publish: (channel, payload) => cluster.spublish(channel, payload),
        subscribe: (channel) => cluster.ssubscribe(channel),
        unsubscribe: (channel) => cluster.sunsubscribe(channel),
        connect: async () => {
          let timer: NodeJS.Timeout | undefined
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error('the sharded subscribers did not reach every master of the cluster')),
              SHARDED_SUBSCRIBERS_TIMEOUT_MS,
            )
          })
          await Promise.race([firstReady, timeout]).finally(() => clearTimeout(timer))
        },
        // the cluster client's own shutdown closes its subscriber connections
        close: () => {},
      },
      log,
      metrics,
    )
    cluster.on('smessage', (channel: string, payload: string) => bus.receive(channel, payload))
    cluster.on('subscribersReady', () => {
      ready()
      bus.subscribersReady()
    })
    return bus
  }

  private constructor(
    private readonly pubsub: PubSub,
    private readonly log: FastifyBaseLogger,
    metrics: BusMetrics,
  ) {
    this.subscriptions = new Subscriptions(metrics.busLag)
  }

  private receive(channel: string, payload: string): void {
    const { message, publishedAt } = unstamp(payload)
    this.subscriptions.deliver(channel, message, publishedAt)
  }

  private subscribersReady(): void {
    if (this.connectedOnce) this.resubscribedListeners.forEach((listener) => listener())
    this.connectedOnce = true
  }

  async connect(): Promise<void> {
    await this.pubsub.connect()
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.pubsub.publish(channel, stamp(message))
  }
  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (this.subscriptions.add(channel, handler)) await this.pubsub.subscribe(channel)
  }
  async unsubscribe(channel: string, handler: BusHandler): Promise<void> {
    if (!this.subscriptions.remove(channel, handler)) return
    try {
      await this.pubsub.unsubscribe(channel)
    } catch (error) {
      // Redis is away: its reconnect subscribes only to the channels still held, so nothing is lost
      this.log.debug({ err: error, channel }, 'unsubscribe while Redis is away')
    }
  }
  onResubscribed(listener: () => void): void {
    this.resubscribedListeners.push(listener)
  }
  async close(): Promise<void> {
    this.pubsub.close()
  }
}
