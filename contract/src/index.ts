export * from './credentials.ts'
export * from './envelope.ts'
