// `npm run lint`: every check runs, even after one fails, and the summary names each that failed, so a
// formatting slip never hides a type error. Exit 1 when any failed. Two checks run at a time (CI has 2
// cores); each one's output is printed whole, in the order below, once it ends.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

const { workspaces } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const checks = [
  ['lint rules (eslint)', 'npx', ['eslint', '--max-warnings', '0', '.']],
  ['formatting (prettier)', 'npx', ['prettier', '--check', '.']],
  // each workspace's own `lint` is its type check (tsc, or vue-tsc for the SPA)
  ...workspaces.map((workspace) => [`types (${workspace})`, 'npm', ['run', 'lint', '-w', workspace]]),
]
const AT_ONCE = 2

/** Runs one check, keeping what it prints; resolves with that and whether it passed. */
function run([name, command, args]) {
  return new Promise((resolve) => {
    let output = ''
    const child = spawn(command, args, { env: { ...process.env, FORCE_COLOR: '1' } })
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('error', (error) => resolve({ name, output: `${output}${error.message}\n`, passed: false }))
    child.on('close', (status) => resolve({ name, output, passed: status === 0 }))
  })
}

/** `task` once fewer than AT_ONCE are running */
let running = 0
const waiting = []
const limited = (task) =>
  new Promise((resolve) => {
    const start = () => {
      running++
      task().then((result) => {
        running--
        waiting.shift()?.()
        resolve(result)
      })
    }
    if (running < AT_ONCE) start()
    else waiting.push(start)
  })

const failed = []
for (const result of checks.map((check) => limited(() => run(check)))) {
  const { name, output, passed } = await result
  console.log(`\n== ${name}`)
  process.stdout.write(output)
  if (!passed) failed.push(name)
}
console.log(failed.length === 0 ? '\nlint: every check passed' : `\nlint failed: ${failed.join(', ')}`)
process.exitCode = failed.length === 0 ? 0 : 1
