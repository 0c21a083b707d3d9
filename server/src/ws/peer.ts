import type { FastifyBaseLogger } from 'fastify'
import { WebSocket } from 'ws'
import type { ChatUser } from '@chat/contract'

/** One open WebSocket of an authenticated user, whatever protocol it speaks. */
export class Peer {
  /** cleared at each heartbeat ping, set by the pong (or any message) */
  alive = true

  constructor(
    readonly socket: WebSocket,
    /** who it is, as others see them (read from the database at the upgrade) */
    readonly user: ChatUser,
    /** the instance admin (read from the database at the upgrade): sees and manages every room */
    readonly admin: boolean,
    readonly token: string,
    private readonly sendBufferLimit: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Sends unless the peer has stopped reading: once more than `sendBufferLimit` bytes wait in its buffer
   * the connection is cut, so one slow client cannot make the server hold an ever-growing queue.
   */
  send(frame: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return
    if (this.socket.bufferedAmount > this.sendBufferLimit) {
      this.log.warn(
        { userId: this.user.id, buffered: this.socket.bufferedAmount },
        'slow WebSocket reader cut off',
      )
      this.socket.terminate()
      return
    }
    this.socket.send(frame)
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(code, reason)
    }
  }
}
