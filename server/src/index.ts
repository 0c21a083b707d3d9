// What other workspaces (the browser tests, the benchmarks) may use of the server: the one factory and its
// configuration. Anything else stays private to the package.
export { buildApp, type App, type BuildOptions } from './app.ts'
export { loadConfig, PLACEHOLDER_ADMIN, type Config } from './config/config.ts'
export { MemorySessionStore } from './sessions/memory-session-store.ts'
