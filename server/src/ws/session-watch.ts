import { CloseCode } from '@chat/contract'
import type { FastifyBaseLogger } from 'fastify'
import type { Bus } from '../bus/bus.ts'
import type { Metrics } from '../metrics/metrics.ts'
import { tokenHash, type SessionStore } from '../sessions/session-store.ts'
import type { Peer } from './peer.ts'

const SESSION_ENDED = 'session ended'

/**
 * Keeps open sockets bound to live sessions with no store round trip per message: sessions are checked
 * at the upgrade, closed at once when the bus says they ended (logout, log out everywhere), closed at
 * their absolute end by a timer, and all re-checked in one batch every `intervalMs`, which also keeps
 * their idle timers fresh while the socket is open.
 */
export class SessionWatch {
  private readonly byHash = new Map<string, { token: string; peers: Set<Peer>; expiry: NodeJS.Timeout }>()
  private readonly byUser = new Map<string, Set<Peer>>()
  private readonly onEvent = (event: string) => this.handleEvent(event)
  private timer: NodeJS.Timeout | undefined
  private checking = false

  constructor(
    private readonly sessions: SessionStore,
    private readonly bus: Bus,
    private readonly eventsChannel: string,
    private readonly intervalMs: number,
    private readonly log: FastifyBaseLogger,
    private readonly metrics: Pick<Metrics, 'sessionChecks' | 'sessionCloses'>,
  ) {}

  async start(): Promise<void> {
    await this.bus.subscribe(this.eventsChannel, this.onEvent)
    // after a bus outage a logout may have gone unheard: check everything now
    this.bus.onResubscribed(() => void this.check())
    this.timer = setInterval(() => void this.check(), this.intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    for (const entry of this.byHash.values()) clearTimeout(entry.expiry)
    await this.bus.unsubscribe(this.eventsChannel, this.onEvent)
  }

  peers(): Iterable<Peer> {
    return [...this.byUser.values()].flatMap((peers) => [...peers])
  }

  add(peer: Peer, expiresAt: number): void {
    const hash = tokenHash(peer.token)
    let entry = this.byHash.get(hash)
    if (!entry) {
      entry = { token: peer.token, peers: new Set(), expiry: this.expiryTimer(hash, expiresAt) }
      this.byHash.set(hash, entry)
    }
    entry.peers.add(peer)
    const ofUser = this.byUser.get(peer.user.id) ?? new Set()
    ofUser.add(peer)
    this.byUser.set(peer.user.id, ofUser)
  }

  remove(peer: Peer): void {
    const hash = tokenHash(peer.token)
    const entry = this.byHash.get(hash)
    if (entry?.peers.delete(peer) && entry.peers.size === 0) {
      clearTimeout(entry.expiry)
      this.byHash.delete(hash)
    }
    const ofUser = this.byUser.get(peer.user.id)
    if (ofUser?.delete(peer) && ofUser.size === 0) this.byUser.delete(peer.user.id)
  }

  private expiryTimer(hash: string, expiresAt: number): NodeJS.Timeout {
    // setTimeout holds at most 2^31-1 ms (~24.8 days); sessions are far shorter, but clamp anyway
    const delay = Math.min(Math.max(expiresAt - Date.now(), 0), 2 ** 31 - 1)
    const timer = setTimeout(() => this.endSession(hash), delay)
    timer.unref()
    return timer
  }

  private handleEvent(event: string): void {
    if (event.startsWith('token:')) return this.endSession(event.slice('token:'.length))
    if (event.startsWith('user:')) {
      for (const peer of this.byUser.get(event.slice('user:'.length)) ?? []) this.closeEnded(peer)
    }
  }

  private endSession(hash: string): void {
    for (const peer of this.byHash.get(hash)?.peers ?? []) this.closeEnded(peer)
  }

  private closeEnded(peer: Peer): void {
    this.metrics.sessionCloses.inc()
    peer.close(CloseCode.sessionEnded, SESSION_ENDED)
  }

  private async check(): Promise<void> {
    if (this.checking || this.byHash.size === 0) return
    this.checking = true
    try {
      const entries = [...this.byHash.entries()]
      const sessions = await this.sessions.touchMany(entries.map(([, entry]) => entry.token))
      let ended = 0
      entries.forEach(([hash], index) => {
        if (sessions[index]) return
        ended++
        this.endSession(hash)
      })
      this.metrics.sessionChecks.inc({ result: 'ok' }, entries.length - ended)
      this.metrics.sessionChecks.inc({ result: 'ended' }, ended)
    } catch (error) {
      this.metrics.sessionChecks.inc({ result: 'failed' })
      // a store outage must not log everyone out; the next check, or the bus, will tell
      this.log.warn({ err: error }, 'session check failed')
    } finally {
      this.checking = false
    }
  }
}
