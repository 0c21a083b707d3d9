import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // each file makes its own database and Redis prefix, so files may run side by side
    pool: 'forks',
  },
})
