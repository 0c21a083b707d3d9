/**
 * A reason the process cannot start that a person can fix: said in one line, with what to do, and the
 * process exits non-zero. Anything else is a bug and keeps its stack trace.
 */
export class StartupError extends Error {
  override name = 'StartupError'
}

/** `host:port` of a service's URL, for messages and logs */
export const hostOf = (url: string, defaultPort: number) => {
  const parsed = new URL(url)
  return `${parsed.hostname}:${parsed.port || defaultPort}`
}

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH'])

/** PostgreSQL could not be used at start: which server, what is wrong, and which variables to check. */
export function databaseStartupError(error: unknown, url: string): StartupError {
  const parsed = new URL(url)
  const where = `PostgreSQL at ${hostOf(url, 5432)}`
  const name = decodeURIComponent(parsed.pathname.slice(1)) || 'postgres'
  const user = decodeURIComponent(parsed.username) || 'postgres'
  const code = codeOf(error)
  const message =
    code === '3D000'
      ? `database "${name}" does not exist on ${where}: create it (createdb -h ${parsed.hostname} -U ${user} ${name}) or set POSTGRES_DB (or DATABASE_URL) to one that exists`
      : code === '28P01' || code === '28000'
        ? `${where} refused user "${user}": check POSTGRES_USER and POSTGRES_PASSWORD (or DATABASE_URL)`
        : code && UNREACHABLE.has(code)
          ? `cannot reach ${where} (${code}): is it running? Check POSTGRES_HOST and POSTGRES_PORT (or DATABASE_URL), or unset them to use the embedded database`
          : `${where} failed: ${error instanceof Error ? error.message : String(error)}`
  return new StartupError(message, { cause: error })
}

/**
 * Redis could not be reached at start. `where`: the server as `host:port` (from REDIS_URL) or the
 * cluster's startup nodes (from REDIS_CLUSTER_NODES, then `cluster` is true).
 */
export function redisStartupError(error: unknown, where: string, cluster = false): StartupError {
  const [what, variable] = cluster
    ? [`the Redis Cluster at ${where}`, 'REDIS_CLUSTER_NODES']
    : [`Redis at ${where}`, 'REDIS_URL']
  const detail = error instanceof Error ? error.message : String(error)
  const message = /NOAUTH|WRONGPASS/.test(detail)
    ? `${what} refused the credentials in ${variable} (${detail})`
    : `cannot reach ${what} (${codeOf(error) ?? detail}): is it running? Check ${variable}, or unset it to keep sessions in this process`
  return new StartupError(message, { cause: error })
}

/**
 * `listen` failed: the port is taken or not ours to bind. `variables`: what sets the port and host (the
 * app's PORT and HOST, or the metrics listener's METRICS_PORT and METRICS_HOST).
 */
export function listenStartupError(
  error: unknown,
  host: string,
  port: number,
  variables = { port: 'PORT', host: 'HOST' },
): StartupError | undefined {
  const code = codeOf(error)
  if (code === 'EADDRINUSE')
    return new StartupError(`port ${port} on ${host} is in use: stop what holds it, or set ${variables.port}`)
  if (code === 'EACCES')
    return new StartupError(
      `may not listen on ${host}:${port} (EACCES): use a port above 1023, or set ${variables.port}`,
    )
  if (code === 'EADDRNOTAVAIL')
    return new StartupError(`${host} is not an address of this machine: set ${variables.host}`)
  return undefined
}
