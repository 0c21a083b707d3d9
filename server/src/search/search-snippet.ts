import type { SnippetPart } from '@chat/contract'
import { MATCH_END, MATCH_START } from './search-repository.ts'

/** About this many characters of a message are shown in a result: a couple of lines. */
export const SNIPPET_CHARS = 240
/** …of which up to this many come before the first match, for its context. */
const LEAD_CHARS = 60

/**
 * A result's snippet from ts_headline's text (the whole message, matches between MATCH_START and MATCH_END):
 * parts of plain text, matches marked, whitespace runs made one space; a long message is cut to about
 * SNIPPET_CHARS around its first match, at spaces, with "…" where it was cut.
 */
export function snippetOf(headline: string): SnippetPart[] {
  const parts: SnippetPart[] = []
  for (const [index, piece] of headline.split(MATCH_START).entries()) {
    const [matched, rest] = index === 0 ? [undefined, piece] : splitOnce(piece, MATCH_END)
    if (matched) parts.push({ text: matched, match: true })
    if (rest) parts.push({ text: rest, match: false })
  }
  const flat = parts.map((part) => ({ ...part, text: part.text.replace(/\s+/g, ' ') }))
  const length = flat.reduce((sum, part) => sum + part.text.length, 0)
  if (length <= SNIPPET_CHARS) return flat
  return cut(flat, window(flat, length))
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator)
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + separator.length)]
}

/** Where to cut: a span of about SNIPPET_CHARS that starts a little before the first match, at spaces. */
function window(parts: SnippetPart[], length: number): { start: number; end: number } {
  const text = parts.map((part) => part.text).join('')
  let firstMatch = 0
  for (const part of parts) {
    if (part.match) break
    firstMatch += part.text.length
  }
  let start = Math.max(0, Math.min(firstMatch - LEAD_CHARS, length - SNIPPET_CHARS))
  if (start > 0) {
    const space = text.indexOf(' ', start)
    start = space >= 0 && space < firstMatch ? space + 1 : start
  }
  let end = Math.min(length, start + SNIPPET_CHARS)
  if (end < length) {
    const space = text.lastIndexOf(' ', end)
    end = space > Math.max(start, firstMatch) ? space : end
  }
  return { start, end }
}

function cut(parts: SnippetPart[], { start, end }: { start: number; end: number }): SnippetPart[] {
  const kept: SnippetPart[] = []
  let offset = 0
  const total = parts.reduce((sum, part) => sum + part.text.length, 0)
  for (const part of parts) {
    const from = Math.max(start, offset)
    const upTo = Math.min(end, offset + part.text.length)
    if (from < upTo) kept.push({ text: part.text.slice(from - offset, upTo - offset), match: part.match })
    offset += part.text.length
  }
  if (start > 0) kept.unshift({ text: '…', match: false })
  if (end < total) kept.push({ text: '…', match: false })
  return kept
}
