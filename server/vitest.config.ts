import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // each file makes its own database and Redis prefix, so files may run side by side; most of a file's
    // time is spent waiting (on timers, sockets, child processes), so two at once on CI's 2 cores, where
    // vitest's default (cores - 1) would run them one at a time
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['src/test/pglite-template.ts'],
  },
})
