export * from './credentials.ts'
export * from './envelope.ts'
export * from './chat-protocol.ts'
export * from './accounts.ts'
