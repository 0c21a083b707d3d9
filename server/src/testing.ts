// Test helpers other workspaces share (the topology and browser suites): backends of their own and a
// WebSocket client. Imported as `@chat/server/testing`, never by production code.
export {
  createTestDatabase,
  createTestRedisPrefix,
  productionLikeEnv,
  TEST_POSTGRES_URL,
  TEST_REDIS_URL,
} from './test/backends.ts'
export { freePort } from './test/ports.ts'
export { startOwnRedis, type OwnRedis } from './test/redis-server.ts'
export { startRedisCluster, type OwnRedisCluster } from './test/redis-cluster.ts'
export { spawnServer, type ServerProcess } from './test/server-process.ts'
export { startMailCatcher, type CaughtMail, type MailCatcher } from './test/mail-catcher.ts'
export { openSocket, refusedStatus, type TestSocket } from './test/ws-client.ts'
