import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // through nginx: the HTTPS certificate every test process must trust, made before they start
    globalSetup: process.env.E2E_STACK === '1' ? ['e2e/stack-certificate.ts'] : [],
  },
})
