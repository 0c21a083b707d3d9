import type { AccessToken, FieldErrors, SessionsEnded, User } from '@chat/contract'

/** The API's answer, or why there is none: `status` 0 means the server could not be reached. */
export type ApiResult<T> =
  | { ok: true; data: T }
  | { ok: false; status: number; message: string; fields?: FieldErrors; retryAfterSeconds?: number }

const API = '/api/v1.0/user'

async function call<T>(path: string, init: RequestInit = {}): Promise<ApiResult<T>> {
  let response: Response
  try {
    // the session cookie is HttpOnly: the browser sends it, page script never sees it
    response = await fetch(`${API}${path}`, { credentials: 'same-origin', ...init })
  } catch {
    return { ok: false, status: 0, message: 'Cannot reach the server. Check your connection and try again.' }
  }
  let body: { valid?: boolean; data?: unknown } = {}
  try {
    body = (await response.json()) as typeof body
  } catch {
    // not JSON: a proxy's error page, say
  }
  if (response.ok && body.valid) return { ok: true, data: body.data as T }
  const retryAfter = Number(response.headers.get('retry-after'))
  return {
    ok: false,
    status: response.status,
    message: typeof body.data === 'string' ? body.data : `The server answered ${response.status}`,
    ...(body.data && typeof body.data === 'object' ? { fields: body.data as FieldErrors } : {}),
    ...(retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
  }
}

const postJson = <T>(path: string, body: unknown) =>
  call<T>(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

export const api = {
  login: (email: string, password: string) => postJson<AccessToken>('/auth', { email, password }),
  register: (email: string, password: string) => postJson<AccessToken>('/register', { email, password }),
  me: () => call<User>('/me'),
  logout: () => postJson<SessionsEnded>('/logout', {}),
}
