import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

// Served under /app/ (history mode); in development the API and WebSocket server run on :8000.
export default defineConfig({
  base: '/app/',
  plugins: [vue()],
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8000',
      '/ws': { target: 'ws://127.0.0.1:8000', ws: true },
    },
  },
  build: { reportCompressedSize: true },
})
