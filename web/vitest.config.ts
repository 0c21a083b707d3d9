import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // components are rendered in unit tests (to strings, through vue/server-renderer)
  plugins: [vue()],
  test: {
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // through nginx: the HTTPS certificate every test process must trust, made before they start
    globalSetup: process.env.E2E_STACK === '1' ? ['e2e/stack-certificate.ts'] : [],
  },
})
