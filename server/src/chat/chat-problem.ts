import type { ChatErrorCode } from '@chat/contract'

/** A refusal the client is told as `error` with this code: expected, so never logged as a failure. */
export class ChatProblem extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    /** the `clientId` of the `send` (or the `ref` of the change) refused, so the client need not try again */
    readonly ref?: string,
  ) {
    super(message)
  }
}

/**
 * A send or a change to a message that was stored (a send also acknowledged), but whose announcement to
 * the room failed: the client is told it is safe, so it does not do it again.
 */
export class AnnouncementFailed extends Error {
  constructor(cause: unknown) {
    super('stored, but the announcement failed', { cause })
  }
}
