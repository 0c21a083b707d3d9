// `npm run load -- --url <base> --scenario <name> [options]`: one scenario against any deployment, with a
// progress line each second and the figures at the end (JSON with --json). The base is the site's origin
// (e.g. https://localhost:8443): it logs in at <base>/api/v1.0/user/auth and speaks WebSocket at <base>/ws.
import { parseArgs } from 'node:util'
import { chatStore, echo, fanOut, type Progress, type Target } from './scenarios.ts'

const usage = `usage: npm run load -- --url <base> --scenario <echo|chat-store|fanout> (--token <t> | --email <e> --password <p>)
  [--seconds 10] [--connections 50] [--rooms 1] [--senders 10] [--window 16] [--receivers 100] [--messages 50] [--json]
  Sends only as fast as the deployment's limits allow (WS_MESSAGES_PER_SECOND, WS_MAX_CONNECTIONS_PER_USER).`

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    scenario: { type: 'string' },
    token: { type: 'string' },
    email: { type: 'string' },
    password: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rooms: { type: 'string', default: '1' },
    senders: { type: 'string', default: '10' },
    window: { type: 'string', default: '16' },
    receivers: { type: 'string', default: '100' },
    messages: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
  },
})

function fail(message: string): never {
  console.error(`${message}\n${usage}`)
  process.exit(2)
}

function count(name: keyof typeof values): number {
  const value = Number(values[name])
  if (!Number.isInteger(value) || value < 1) fail(`--${name} must be a whole number above 0`)
  return value
}

async function login(base: string): Promise<string> {
  if (values.token) return values.token
  if (!values.email || !values.password) fail('give --token, or --email and --password')
  const response = await fetch(`${base}/api/v1.0/user/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: values.email, password: values.password }),
    signal: AbortSignal.timeout(10_000),
  })
  if (response.status !== 200) fail(`login at ${base} answered ${response.status}: ${await response.text()}`)
  return ((await response.json()) as { data: { access_token: string } }).data.access_token
}

if (!values.url || !values.scenario) fail('--url and --scenario are required')
const base = values.url.replace(/\/+$/, '')
const target: Target = { wsUrl: `${base.replace(/^http/, 'ws')}/ws`, token: await login(base) }
const seconds = count('seconds')
// one line, rewritten in place on a terminal
const progress: Progress = (line) =>
  process.stderr.isTTY ? process.stderr.write(`\r\x1b[K${line}`) : console.error(line)

let result: unknown
switch (values.scenario) {
  case 'echo':
    result = await echo(target, { connections: count('connections'), seconds }, progress)
    break
  case 'chat-store':
    result = await chatStore(
      target,
      { rooms: count('rooms'), sendersPerRoom: count('senders'), window: count('window'), seconds },
      progress,
    )
    break
  case 'fanout':
    result = await fanOut(
      target,
      { receivers: count('receivers'), messages: count('messages'), intervalMs: 20, chat: true },
      progress,
    )
    break
  default:
    fail(`no scenario ${values.scenario}`)
}
if (process.stderr.isTTY) process.stderr.write('\n')
console.log(values.json ? JSON.stringify(result) : result)
