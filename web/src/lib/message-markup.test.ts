import { describe, expect, it } from 'vitest'
import { mentionsOf, mentionsUser, parseMessage, type Inline } from './message-markup'

/** the inline tokens of a one-line message */
const inline = (text: string, names: readonly string[] = []): Inline[] => {
  const blocks = parseMessage(text, names)
  expect(blocks).toHaveLength(1)
  const [block] = blocks
  if (block?.kind !== 'lines') throw new Error(`expected lines, got ${block?.kind}`)
  return block.children
}
const text = (value: string): Inline => ({ kind: 'text', text: value })
const link = (href: string, shown: string): Inline => ({ kind: 'link', href, text: shown })

describe('message markup: text', () => {
  it('leaves plain text, newlines and blank lines as written', () => {
    expect(parseMessage('hello\n\n  world\t!')).toEqual([
      { kind: 'lines', children: [text('hello\n\n  world\t!')] },
    ])
  })

  it('reads **bold**, *italic* and _italic_, nested', () => {
    expect(inline('a **b** *c* _d_ **e _f_ g**')).toEqual([
      text('a '),
      { kind: 'strong', children: [text('b')] },
      text(' '),
      { kind: 'emphasis', children: [text('c')] },
      text(' '),
      { kind: 'emphasis', children: [text('d')] },
      text(' '),
      { kind: 'strong', children: [text('e '), { kind: 'emphasis', children: [text('f')] }, text(' g')] },
    ])
  })

  it('keeps delimiters inside words, around spaces, unpaired or across lines as text', () => {
    for (const written of [
      'snake_case_name',
      '2*3*4',
      'a * b * c',
      '** not bold **',
      '*open only',
      '_a',
      '***x***',
    ])
      expect(inline(written)).toEqual([text(written)])
    expect(parseMessage('*one\ntwo*')).toEqual([{ kind: 'lines', children: [text('*one\ntwo*')] }])
  })

  it('reads `code` literally: no emphasis, link or mention inside, and longer fences hold backticks', () => {
    expect(inline('run `npm *i* https://x.com @bob` now')).toEqual([
      text('run '),
      { kind: 'code', text: 'npm *i* https://x.com @bob' },
      text(' now'),
    ])
    expect(inline('``a ` b`` and ` `` `')).toEqual([
      { kind: 'code', text: 'a ` b' },
      text(' and '),
      { kind: 'code', text: '``' },
    ])
    expect(inline('an ` alone')).toEqual([text('an ` alone')])
    expect(inline('**bold `code**` end**')).toEqual([
      { kind: 'strong', children: [text('bold '), { kind: 'code', text: 'code**' }, text(' end')] },
    ])
  })

  it('reads ``` fenced blocks verbatim, with an info string left out, and an unclosed fence as text', () => {
    expect(parseMessage('before\n```ts\nconst a = **b**\n\n  <i>x</i>\n```\nafter')).toEqual([
      { kind: 'lines', children: [text('before')] },
      { kind: 'code-block', text: 'const a = **b**\n\n  <i>x</i>' },
      { kind: 'lines', children: [text('after')] },
    ])
    expect(parseMessage('```\nnever closed')).toEqual([
      { kind: 'lines', children: [text('```\nnever closed')] },
    ])
  })

  it('reads consecutive "> " lines as one quote, with markup inside; ">x" is no quote', () => {
    expect(parseMessage('> first *line*\n>\n> third\nreply\n>_<')).toEqual([
      {
        kind: 'quote',
        children: [text('first '), { kind: 'emphasis', children: [text('line')] }, text('\n\nthird')],
      },
      { kind: 'lines', children: [text('reply\n>_<')] },
    ])
  })
})

describe('message markup: links', () => {
  it('links http and https URLs, and bare domains with https', () => {
    expect(inline('see https://example.com/a?b=1#c, http://x.org and www.example.com.')).toEqual([
      text('see '),
      link('https://example.com/a?b=1#c', 'https://example.com/a?b=1#c'),
      text(', '),
      link('http://x.org/', 'http://x.org'),
      text(' and '),
      link('https://www.example.com/', 'www.example.com'),
      text('.'),
    ])
    expect(inline('example.org/path')).toEqual([link('https://example.org/path', 'example.org/path')])
  })

  it('ends a link before the * or _ that closes its emphasis, and before a closing bracket', () => {
    expect(inline('**https://x.com/a_b** _www.x.org_ (https://x.com/p)')).toEqual([
      { kind: 'strong', children: [link('https://x.com/a_b', 'https://x.com/a_b')] },
      text(' '),
      { kind: 'emphasis', children: [link('https://www.x.org/', 'www.x.org')] },
      text(' ('),
      link('https://x.com/p', 'https://x.com/p'),
      text(')'),
    ])
  })

  it('leaves every other scheme, and emails, as text', () => {
    for (const written of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'javascript://%0Aalert(1)',
      'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
      'vbscript:msgbox("XSS")',
      'file:///etc/passwd',
      'ftp://example.com/file',
      'mailto:someone@example.com',
      'someone@example.com',
      '[x](javascript:alert(1))',
    ])
      expect(inline(written), written).toEqual([text(written)])
  })

  it('never makes a Markdown link: [text](url) shows as written, its URL linked as itself', () => {
    expect(inline('[x](https://example.com)')).toEqual([
      text('[x]('),
      link('https://example.com/', 'https://example.com'),
      text(')'),
    ])
  })
})

describe('message markup: mentions', () => {
  it('reads @word, and known names with spaces, whole, ignoring case', () => {
    expect(inline('hi @bob, @ADA lovelace and @room!', ['Ada Lovelace'])).toEqual([
      text('hi '),
      { kind: 'mention', name: 'bob' },
      text(', '),
      { kind: 'mention', name: 'ADA lovelace' },
      text(' and '),
      { kind: 'mention', name: 'room' },
      text('!'),
    ])
  })

  it('is no mention inside an email address, a word, code or a link, or without a name', () => {
    expect(inline('bob@example.com a@b `@carol` https://x.com/@dave @ alone')).toEqual([
      text('bob@example.com a@b '),
      { kind: 'code', text: '@carol' },
      text(' '),
      link('https://x.com/@dave', 'https://x.com/@dave'),
      text(' @ alone'),
    ])
  })

  it('says who a message mentions, each once, and whether it mentions a user (by name or @room)', () => {
    const message = '@Ada Lovelace and @bob, again @BOB; not `@carol`\n```\n@dave\n```\n> @erin'
    expect(mentionsOf(message, ['Ada Lovelace'])).toEqual(['Ada Lovelace', 'bob', 'erin'])
    expect(mentionsOf(message)).toEqual(['Ada', 'bob', 'erin'])
    expect(mentionsUser(message, 'ada lovelace')).toBe(true)
    expect(mentionsUser(message, 'Ada')).toBe(true)
    expect(mentionsUser(message, 'Ada Byron')).toBe(false)
    expect(mentionsUser(message, 'carol')).toBe(false)
    expect(mentionsUser(message, 'dave')).toBe(false)
    expect(mentionsUser('@bobby', 'bob')).toBe(false)
    expect(mentionsUser('all of you: @Room', 'anyone')).toBe(true)
  })
})

describe('message markup: cost', () => {
  it('parses a text once per set of names and hands back the same result after', () => {
    const first = parseMessage('cached **text**', ['A'])
    expect(parseMessage('cached **text**', ['A'])).toBe(first)
    expect(parseMessage('cached **text**', ['B'])).not.toBe(first)
  })

  it('parses pathological text in linear time: ten times the longest message in well under 1.5 s', () => {
    parseMessage('warm up *the* parser and www.linkify.io')
    for (const unit of ['*a', '_ ', '` ', '`a` ', '@', '**x ', 'www.a.io ', 'a.', '```a\n', '> *a\n']) {
      const written = unit.repeat(Math.floor(40_000 / unit.length))
      // the best of three (new texts each, past the cache): a pause for garbage collection or a busy machine
      // is no blow-up. Linear takes about 0.2 s here; a quadratic step, a hundred times its cost at 4,000
      // characters, takes seconds
      const times = [1, 2, 3].map((attempt) => {
        const started = performance.now()
        parseMessage(`${attempt}${written}`)
        return performance.now() - started
      })
      expect(Math.min(...times), unit).toBeLessThan(1_500)
    }
  })
})
