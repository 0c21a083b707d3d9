/** The template with its ${VARIABLES} replaced from `env`; throws naming any that is not set. */
export function renderNginx(env?: Record<string, string | undefined>): string
/** The main nginx.conf around the rendered template, for an nginx run by a non-root user from `dir`. */
export function renderNginxMain(dir: string, errorLog: string): string
