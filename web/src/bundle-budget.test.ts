import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'

/** Initial JavaScript of the SPA (the entry and what it preloads), gzipped: at most 100 KB. */
const BUDGET_BYTES = 100 * 1024
const dist = new URL('../dist/', import.meta.url)

describe('the SPA build', () => {
  it(`loads at most ${BUDGET_BYTES / 1024} KB of gzipped JavaScript up front`, () => {
    const html = readFileSync(new URL('index.html', dist), 'utf8')
    const initial = [
      ...html.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="\/app\/([^"]+\.js)"/g),
    ].map((match) => match[1]!)
    expect(initial.length).toBeGreaterThan(0)
    const sizes = initial.map((file) => ({ file, gzip: gzipSync(readFileSync(new URL(file, dist))).length }))
    const total = sizes.reduce((sum, { gzip }) => sum + gzip, 0)
    console.log(`initial JS: ${(total / 1024).toFixed(1)} KB gzip (${sizes.map((s) => s.file).join(', ')})`)
    expect(total).toBeLessThanOrEqual(BUDGET_BYTES)
  })
})
