import { existsSync } from 'node:fs'
import path from 'node:path'
import { repositoryRoot } from './config.ts'

/** Reads `<repo>/.env` when there is one, as docker compose would; variables already set win. */
export function loadDotEnv(file = path.join(repositoryRoot, '.env')): void {
  if (existsSync(file)) process.loadEnvFile(file)
}
