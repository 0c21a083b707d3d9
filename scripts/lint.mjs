// `npm run lint`: every check runs, even after one fails, and the summary names each that failed, so a
// formatting slip never hides a type error. Exit 1 when any failed.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const { workspaces } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const checks = [
  ['formatting (prettier)', 'npx', ['prettier', '--check', '.']],
  ['lint rules (eslint)', 'npx', ['eslint', '--max-warnings', '0', '.']],
  // each workspace's own `lint` is its type check (tsc, or vue-tsc for the SPA)
  ...workspaces.map((workspace) => [`types (${workspace})`, 'npm', ['run', 'lint', '-w', workspace]]),
]

const failed = []
for (const [name, command, args] of checks) {
  console.log(`\n== ${name}`)
  const { status, error } = spawnSync(command, args, { stdio: 'inherit' })
  if (error) console.error(error.message)
  if (status !== 0) failed.push(name)
}
console.log(failed.length === 0 ? '\nlint: every check passed' : `\nlint failed: ${failed.join(', ')}`)
process.exitCode = failed.length === 0 ? 0 : 1
