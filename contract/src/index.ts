export * from './credentials.ts'
export * from './credentials-schemas.ts'
export * from './envelope.ts'
export * from './chat-protocol.ts'
