import { describe, expect, it } from 'vitest'
import { MATCH_END, MATCH_START } from './search-repository.ts'
import { SNIPPET_CHARS, snippetOf } from './search-snippet.ts'

const mark = (word: string) => `${MATCH_START}${word}${MATCH_END}`
const textOf = (parts: { text: string }[]) => parts.map((part) => part.text).join('')

describe('a search result snippet', () => {
  it('splits a short message into plain and matched parts, whitespace made single spaces', () => {
    expect(snippetOf(`${mark('Deploy')} the\n\n${mark('deployed')}  <i>x</i>`)).toEqual([
      { text: 'Deploy', match: true },
      { text: ' the ', match: false },
      { text: 'deployed', match: true },
      { text: ' <i>x</i>', match: false },
    ])
    expect(snippetOf('no match marked')).toEqual([{ text: 'no match marked', match: false }])
  })

  it('cuts a long message around its first match, at spaces, with an ellipsis each side', () => {
    const before = Array.from({ length: 80 }, (_, n) => `before${n}`).join(' ')
    const after = Array.from({ length: 80 }, (_, n) => `after${n}`).join(' ')
    const parts = snippetOf(`${before} ${mark('needle')} ${after}`)
    const text = textOf(parts)
    expect(parts[0]).toEqual({ text: '…', match: false })
    expect(parts.at(-1)).toEqual({ text: '…', match: false })
    expect(parts.filter((part) => part.match)).toEqual([{ text: 'needle', match: true }])
    expect(text.length).toBeLessThanOrEqual(SNIPPET_CHARS + 2)
    // whole words only, and a little context before the match
    expect(text).toMatch(/^…before\d+ .* needle after0 .* after\d+…$/)
    expect(text.indexOf('needle')).toBeGreaterThan(30)
  })

  it('keeps the start of a long message whose match is near it, and its end when the match is late', () => {
    const filler = Array.from({ length: 100 }, (_, n) => `word${n}`).join(' ')
    const early = textOf(snippetOf(`${mark('first')} ${filler}`))
    expect(early.startsWith('first word0')).toBe(true)
    expect(early.endsWith('…')).toBe(true)
    const late = textOf(snippetOf(`${filler} ${mark('last')}`))
    expect(late.startsWith('…')).toBe(true)
    expect(late.endsWith('word99 last')).toBe(true)
  })
})
