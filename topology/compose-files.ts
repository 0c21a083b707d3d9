import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'

const root = path.resolve(import.meta.dirname, '..')

/** A variable that `${VAR:?message}` (or `${VAR?message}`) found missing: compose refuses to run. */
export class MissingVariableError extends Error {}

/**
 * Compose's interpolation (https://github.com/compose-spec/compose-spec/blob/main/12-interpolation.md):
 * `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset), `${VAR:?message}`,
 * `${VAR?message}`, `${VAR:+replacement}`, `${VAR+replacement}`, and `$$` for a literal `$`. A default may
 * itself hold a variable.
 */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const char = text[i]!
    if (char !== '$') {
      out += char
      i++
      continue
    }
    const next = text[i + 1]
    if (next === '$') {
      out += '$'
      i += 2
    } else if (next === '{') {
      // find the matching brace (a default may hold ${…} itself)
      let depth = 1
      let end = i + 2
      for (; end < text.length && depth > 0; end++) {
        if (text[end] === '{') depth++
        else if (text[end] === '}') depth--
      }
      if (depth !== 0) throw new Error(`unclosed \${ in ${JSON.stringify(text)}`)
      out += expand(text.slice(i + 2, end - 1), env)
      i = end
    } else {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))?.[0]
      if (!name) throw new Error(`a lone $ in ${JSON.stringify(text)} (write $$)`)
      out += env[name] ?? ''
      i += 1 + name.length
    }
  }
  return out
}

function expand(body: string, env: Record<string, string | undefined>): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([\s\S]*))?$/.exec(body)
  if (!match) throw new Error(`not a variable: \${${body}}`)
  const [, name, colon, operator, rest = ''] = match
  const value = env[name!]
  const absent = colon ? value === undefined || value === '' : value === undefined
  switch (operator) {
    case undefined:
      return value ?? ''
    case '-':
      return absent ? interpolate(rest, env) : value!
    case '+':
      return absent ? '' : interpolate(rest, env)
    default:
      if (absent) throw new MissingVariableError(`required variable ${name} is missing a value: ${rest}`)
      return value!
  }
}

/** Every string in a parsed document, interpolated; keys stay as they are (as compose does for most). */
function interpolateAll(node: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof node === 'string') return interpolate(node, env)
  if (Array.isArray(node)) return node.map((item) => interpolateAll(item, env))
  if (node && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, interpolateAll(value, env)]))
  return node
}

/** A compose file parsed (YAML merge keys `<<:` applied) and interpolated with `env`. */
export function loadComposeFile(name: string, env: Record<string, string | undefined>): ComposeFile {
  const document = parse(readFileSync(path.join(root, name), 'utf8'), { merge: true }) as unknown
  return interpolateAll(document, env) as ComposeFile
}

export interface ComposeService {
  image?: string
  build?: { context: string; target?: string; dockerfile?: string }
  environment?: Record<string, string>
  ports?: string[]
  networks?: string[] | Record<string, { ipv4_address?: string } | null>
  volumes?: string[]
  command?: string[]
  healthcheck?: { test: string[] }
  stop_grace_period?: string
}

export interface ComposeFile {
  services: Record<string, ComposeService>
  networks?: Record<string, { ipam?: { config?: { subnet?: string }[] }; internal?: boolean } | null>
  [key: string]: unknown
}
