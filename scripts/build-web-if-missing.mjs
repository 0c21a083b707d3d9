// `npm start` serves the SPA from web/dist; on a fresh clone there is none yet, so build it once.
import { execSync } from 'node:child_process'
import { existsSync } from 'node:fs'

if (!existsSync(new URL('../web/dist/index.html', import.meta.url))) {
  console.log('building the SPA (web/dist) once…')
  execSync('npm run build -w web', { stdio: 'inherit', cwd: new URL('..', import.meta.url) })
}
