import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import vue from '@vitejs/plugin-vue'
import { defineConfig, type Plugin } from 'vite'

/**
 * Writes `<file>.br` and `<file>.gz` next to every text file of the build, compressed once at the highest
 * level, for the embedded server to send as they are (server/src/http/spa-plugin.ts); kept only when smaller.
 */
function precompress(): Plugin {
  let outDir = 'dist'
  return {
    name: 'precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir)
    },
    closeBundle() {
      for (const name of readdirSync(outDir, { recursive: true, encoding: 'utf8' })) {
        if (!/\.(js|css|html|svg|json|txt)$/.test(name)) continue
        const file = path.join(outDir, name)
        const content = readFileSync(file)
        const compressed = {
          br: brotliCompressSync(content, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
              [constants.BROTLI_PARAM_SIZE_HINT]: content.length,
            },
          }),
          gz: gzipSync(content, { level: constants.Z_BEST_COMPRESSION }),
        }
        for (const [extension, bytes] of Object.entries(compressed)) {
          if (bytes.length < content.length) writeFileSync(`${file}.${extension}`, bytes)
        }
      }
    },
  }
}

// Served under /app/ (history mode); in development the API and WebSocket server run on :8000.
export default defineConfig({
  base: '/app/',
  plugins: [vue(), precompress()],
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8000',
      '/ws': { target: 'ws://127.0.0.1:8000', ws: true },
    },
  },
  build: { reportCompressedSize: true },
})
