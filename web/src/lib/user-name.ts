import type { ChatUser } from '@chat/contract'

/** How a user is shown to others: their display name, marked while their email is unconfirmed. */
export const nameOf = (user: ChatUser) => (user.verified ? user.name : `${user.name} (unverified)`)
