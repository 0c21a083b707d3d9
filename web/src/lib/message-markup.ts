import { find as findLinks } from 'linkifyjs'

/**
 * A message's plain text read as a small, safe markup: links (http and https only), **bold**, *italic* or
 * _italic_, `code`, ``` fenced code blocks ```, `> ` quote lines and @mentions. The result is a tree of
 * tokens that MessageText.vue turns into elements one by one: nothing of the text is ever parsed as HTML
 * (OWASP ASVS 5.0 V1.2.1: output encoded for its context; V1.2.2: URLs built from input allow only safe
 * schemes). The text itself stays plain in the database.
 */
export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'strong'; children: Inline[] }
  | { kind: 'emphasis'; children: Inline[] }
  | { kind: 'code'; text: string }
  | { kind: 'link'; href: string; text: string }
  /** `name` as written after the @ */
  | { kind: 'mention'; name: string }

export type Block =
  /** ordinary lines; newlines stay in the text */
  | { kind: 'lines'; children: Inline[] }
  /** consecutive `> ` lines, without their marker */
  | { kind: 'quote'; children: Inline[] }
  | { kind: 'code-block'; text: string }

/** `@room` speaks to everyone in the room */
export const ROOM_MENTION = 'room'

/** schemes a link may have: any other (javascript:, data:, vbscript:, file:, mailto:, ftp:) stays text */
const LINK_PROTOCOLS = new Set(['http:', 'https:'])
/** ``` then an optional info string (a language name, not shown) opens a code block; ``` alone closes it */
const FENCE_OPEN = /^```[^`]*$/
const FENCE_CLOSE = /^```\s*$/
const QUOTE_LINE = /^>(?: (.*))?$/
const WORD_CHAR = /[\p{L}\p{N}_]/u
const SPACE = /\s/
/** what follows @ when it is no known name: letters and digits, with . _ - inside */
const MENTION_WORD = /[\p{L}\p{N}](?:[\p{L}\p{N}_.-]*[\p{L}\p{N}])?/uy
/** emphasis delimiters, the longest first */
const DELIMITERS = [
  { marker: '**', kind: 'strong' },
  { marker: '*', kind: 'emphasis' },
  { marker: '_', kind: 'emphasis' },
] as const

/** beyond this many distinct texts the cache starts again, so a page left open for days stays small */
const CACHE_MAX = 5_000
const cache = new Map<string, { names: readonly string[]; blocks: Block[] }>()

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

/**
 * The blocks of a message. `names`: display names that may follow an @ (they may hold spaces, so
 * `@Ada Lovelace` is one mention when "Ada Lovelace" is among them); any other @word is a mention too.
 * Parsed once per text and names, and kept: a long list re-renders without parsing again.
 */
export function parseMessage(text: string, names: readonly string[] = []): Block[] {
  const known = cache.get(text)
  if (known && known.names.length === names.length && known.names.every((name, i) => name === names[i]))
    return known.blocks
  if (cache.size >= CACHE_MAX) cache.clear()
  const blocks = parseBlocks(
    text,
    [...names].sort((a, b) => b.length - a.length),
  )
  cache.set(text, { names, blocks })
  return blocks
}

/** Who a message mentions, as written (each once, ignoring case), `room` for @room; never inside code. */
export function mentionsOf(text: string, names: readonly string[] = []): string[] {
  const found: string[] = []
  const visit = (nodes: Inline[]) => {
    for (const node of nodes) {
      if (node.kind === 'mention' && !found.some((name) => sameName(name, node.name))) found.push(node.name)
      else if (node.kind === 'strong' || node.kind === 'emphasis') visit(node.children)
    }
  }
  for (const block of parseMessage(text, names)) if (block.kind !== 'code-block') visit(block.children)
  return found
}

/** Whether a mention (as in the tokens) speaks to the user of this display name: theirs or @room. */
export const isMentionOf = (mention: string, name: string | undefined) =>
  sameName(mention, ROOM_MENTION) || (name !== undefined && sameName(mention, name))

/** Whether a message mentions the user of this display name, by name or by @room. */
export const mentionsUser = (text: string, name: string) =>
  mentionsOf(text, [name]).some((mention) => isMentionOf(mention, name))

/** a link found in the whole message: `start` and `end` are offsets in it */
interface FoundLink {
  start: number
  end: number
  href: string
}

/** what the inline pass of every line needs: the known names (longest first) and the message's links */
interface Context {
  names: readonly string[]
  links: FoundLink[]
  /** each link's start, for a binary search */
  linkStarts: number[]
}

function parseBlocks(text: string, names: readonly string[]): Block[] {
  const links = safeLinks(text)
  const context = { names, links, linkStarts: links.map((link) => link.start) }
  const lines = text.split('\n')
  const fenceCloses = lines.flatMap((line, index) => (FENCE_CLOSE.test(line) ? [index] : []))
  const blocks: Block[] = []
  /** the inline nodes of the lines or quote being read, a newline between each line's */
  let open: { kind: 'lines' | 'quote'; children: Inline[] } | undefined
  const add = (kind: 'lines' | 'quote', line: string, at: number) => {
    if (open?.kind !== kind) {
      open = { kind, children: [] }
      blocks.push(open)
    } else open.children.push({ kind: 'text', text: '\n' })
    open.children.push(...parseInline(line, at, context))
  }
  let at = 0
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!
    const close = FENCE_OPEN.test(line) ? fenceCloses[firstAfter(fenceCloses, index)] : undefined
    // an unclosed fence is no code block: the backticks stay as written
    if (close !== undefined) {
      blocks.push({ kind: 'code-block', text: lines.slice(index + 1, close).join('\n') })
      open = undefined
      for (; index < close; index++) at += lines[index]!.length + 1
    } else {
      const quoted = QUOTE_LINE.exec(line)
      if (quoted) add('quote', quoted[1] ?? '', at + 2)
      else add('lines', line, at)
    }
    at += line.length + 1
  }
  for (const block of blocks) if (block.kind !== 'code-block') block.children = mergeText(block.children)
  return blocks
}

/** the index of the first number greater than `value` in an ascending list (its length when none is) */
function firstAfter(sorted: readonly number[], value: number): number {
  let [low, high] = [0, sorted.length]
  while (low < high) {
    const middle = (low + high) >>> 1
    if (sorted[middle]! <= value) low = middle + 1
    else high = middle
  }
  return low
}

/** a code span, link or mention: whole, whatever delimiters it holds */
type Atom = Extract<Inline, { kind: 'code' | 'link' | 'mention' }>
/** a line as single characters and atoms, the emphasis pass's input */
type Unit = string | Atom

/** the inline nodes of a line that starts at offset `at` of the message */
function parseInline(line: string, at: number, context: Context): Inline[] {
  const units: Unit[] = []
  for (const piece of codeSpans(line)) {
    if ('code' in piece) units.push(piece.code)
    else units.push(...linksAndMentions(line, at, piece, context))
  }
  return emphasis(units)
}

/** a stretch of a line: plain text from `start` to `end`, or a code span */
type Piece = { start: number; end: number } | { code: Atom }

/** Code spans first, as in CommonMark: a run of n backticks up to the next run of exactly n. */
function codeSpans(line: string): Piece[] {
  const runs = [...line.matchAll(/`+/g)].map((match) => ({ start: match.index, length: match[0].length }))
  // each length's runs in order: an opener takes the next one after it of its length
  const byLength = new Map<number, number[]>()
  runs.forEach((run, index) => {
    const same = byLength.get(run.length)
    if (same) same.push(index)
    else byLength.set(run.length, [index])
  })
  const pieces: Piece[] = []
  let textFrom = 0
  for (let index = 0; index < runs.length; index++) {
    const open = runs[index]!
    const same = byLength.get(open.length)!
    const closeIndex = same[firstAfter(same, index)]
    if (closeIndex === undefined) continue
    const close = runs[closeIndex]!
    let code = line.slice(open.start + open.length, close.start)
    // one space on each side lets a span start or end with a backtick
    if (/^ .*[^ ].* $/.test(code)) code = code.slice(1, -1)
    if (open.start > textFrom) pieces.push({ start: textFrom, end: open.start })
    pieces.push({ code: { kind: 'code', text: code } })
    textFrom = close.start + close.length
    index = closeIndex
  }
  if (textFrom < line.length) pieces.push({ start: textFrom, end: line.length })
  return pieces
}

/** The href of a found URL when its scheme is http or https (a bare domain gets https), else undefined. */
function safeHref(href: string): string | undefined {
  try {
    const url = new URL(href)
    return LINK_PROTOCOLS.has(url.protocol) ? url.href : undefined
  } catch {
    // not a URL the browser would follow either: it stays text
    return undefined
  }
}

/**
 * The message's http and https links, found once in the whole of it (linkify's scan costs about the
 * same for one character as for a line). A bare domain gets https.
 */
function safeLinks(text: string): FoundLink[] {
  return findLinks(text, 'url', { defaultProtocol: 'https' }).flatMap((found) => {
    // a URL seldom ends in * or _, a bold or italic one often does: those close the emphasis
    const value = found.value.replace(/[*_]+$/, '')
    const trimmed = found.value.length - value.length
    const href = value ? safeHref(found.href.slice(0, found.href.length - trimmed)) : undefined
    return href ? [{ start: found.start, end: found.start + value.length, href }] : []
  })
}

/** the units of a stretch of plain text: its links (those wholly in it) and mentions as atoms */
function linksAndMentions(
  line: string,
  lineAt: number,
  piece: { start: number; end: number },
  context: Context,
) {
  const units: Unit[] = []
  const [from, to] = [lineAt + piece.start, lineAt + piece.end]
  let at = from
  for (let index = firstAfter(context.linkStarts, from - 1); index < context.links.length; index++) {
    const link = context.links[index]!
    if (link.end > to) break
    units.push(...mentions(line.slice(at - lineAt, link.start - lineAt), context.names))
    units.push({ kind: 'link', href: link.href, text: line.slice(link.start - lineAt, link.end - lineAt) })
    at = link.end
  }
  units.push(...mentions(line.slice(at - lineAt, to - lineAt), context.names))
  return units
}

function mentions(text: string, names: readonly string[]): Unit[] {
  const units: Unit[] = []
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!
    const name =
      char === '@' && !WORD_CHAR.test(text[at - 1] ?? '') ? mentionAt(text, at + 1, names) : undefined
    if (name === undefined) {
      units.push(char)
      continue
    }
    units.push({ kind: 'mention', name })
    at += name.length
  }
  return units
}

/** the name after an @ at `at`: the longest known one that ends there at a word's end, else a word */
function mentionAt(text: string, at: number, names: readonly string[]): string | undefined {
  const known = names.find((name) => {
    const written = text.slice(at, at + name.length)
    return name !== '' && sameName(written, name) && !WORD_CHAR.test(text[at + name.length] ?? '')
  })
  if (known !== undefined) return text.slice(at, at + known.length)
  MENTION_WORD.lastIndex = at
  return MENTION_WORD.exec(text)?.[0]
}

const isWord = (unit: Unit | undefined) => typeof unit === 'string' && WORD_CHAR.test(unit)
const isSpace = (unit: Unit | undefined) =>
  unit === undefined || (typeof unit === 'string' && SPACE.test(unit))

/** the delimiter at `at`: exactly its marker, not part of a longer run of the same character */
function delimiterAt(units: Unit[], at: number) {
  return DELIMITERS.find(({ marker }) => {
    const char = marker[0]!
    for (let i = 0; i < marker.length; i++) if (units[at + i] !== char) return false
    return units[at - 1] !== char && units[at + marker.length] !== char
  })
}

/**
 * Bold and italic over a line's units. A delimiter opens before a non-space that is not inside a word,
 * and closes after a non-space at a word's end (so snake_case and 2*3*4 stay as written); one without
 * its partner is text. Emphasis does not cross lines.
 */
function emphasis(units: Unit[]): Inline[] {
  // where each delimiter may close, in order: an opener finds its partner by binary search
  const closers = new Map<string, number[]>(DELIMITERS.map(({ marker }) => [marker, []]))
  units.forEach((_, at) => {
    const delimiter = delimiterAt(units, at)
    if (delimiter && !isSpace(units[at - 1]) && !isWord(units[at + delimiter.marker.length]))
      closers.get(delimiter.marker)!.push(at)
  })
  const closerOf = (marker: string, after: number, end: number) => {
    const positions = closers.get(marker)!
    const close = positions[firstAfter(positions, after)]
    return close !== undefined && close + marker.length <= end ? close : undefined
  }
  const parse = (start: number, end: number): Inline[] => {
    const nodes: Inline[] = []
    for (let at = start; at < end;) {
      const unit = units[at]!
      const delimiter = delimiterAt(units, at)
      const length = delimiter?.marker.length ?? 0
      const opens = delimiter && !isSpace(units[at + length]) && !isWord(units[at - 1])
      const close = opens ? closerOf(delimiter.marker, at + length, end) : undefined
      if (delimiter && close !== undefined) {
        nodes.push({ kind: delimiter.kind, children: parse(at + length, close) })
        at = close + length
      } else {
        nodes.push(typeof unit === 'string' ? { kind: 'text', text: unit } : unit)
        at++
      }
    }
    return mergeText(nodes)
  }
  return parse(0, units.length)
}

/** neighbouring text nodes as one */
function mergeText(nodes: Inline[]): Inline[] {
  const merged: Inline[] = []
  let text = ''
  for (const node of nodes) {
    if (node.kind === 'text') {
      text += node.text
      continue
    }
    if (text) merged.push({ kind: 'text', text })
    text = ''
    merged.push(node)
  }
  if (text) merged.push({ kind: 'text', text })
  return merged
}
