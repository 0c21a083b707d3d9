import type { ChatUser } from '@chat/contract'

/**
 * What the chat needs of a connection, whatever carries it: who is on the other end, a way to send a
 * frame and to close. The transport (ws/) implements it; the chat never sees a socket.
 */
export interface ChatPeer {
  readonly user: ChatUser
  /** the instance admin, who sees and manages every room */
  readonly admin: boolean
  send(frame: string): void
  /** RFC 6455 close code and a reason for people */
  close(code: number, reason: string): void
}

/** What the transport tells a chat connection: each frame as it arrives, and that the peer has gone. */
export interface ChatSession {
  /** a text frame as a string; a binary frame as bytes (refused: the protocol is JSON text) */
  receive(frame: string | Uint8Array): void
  closed(): void
}
