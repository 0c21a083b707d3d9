import type { ChatErrorCode } from '@chat/contract'

/** A refusal the client is told as `error` with this code: expected, so never logged as a failure. */
export class ChatProblem extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    /** the `clientId` of the `send` refused, so the client can drop it rather than send it again */
    readonly ref?: string,
  ) {
    super(message)
  }
}
