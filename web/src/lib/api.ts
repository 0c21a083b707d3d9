import type {
  AccessToken,
  AdminAction,
  AdminUsersPage,
  AuditEvent,
  AuditEventName,
  FieldErrors,
  InstanceSettings,
  SearchPage,
  SearchQuery,
  SessionInfo,
  SessionsEnded,
  User,
} from '@chat/contract'

/** The API's answer, or why there is none: `status` 0 means the server could not be reached. */
export type ApiResult<T> =
  | { ok: true; data: T }
  | {
      ok: false
      status: number
      message: string
      fields?: FieldErrors
      retryAfterSeconds?: number
      /** a login's 401 when only the second factor is missing */
      secondFactorToken?: string
    }

const API = '/api/v1.0'

async function call<T>(path: string, init: RequestInit = {}): Promise<ApiResult<T>> {
  let response: Response
  try {
    // the session cookie is HttpOnly: the browser sends it, page script never sees it
    response = await fetch(`${API}${path}`, { credentials: 'same-origin', ...init })
  } catch {
    return { ok: false, status: 0, message: 'Cannot reach the server. Check your connection and try again.' }
  }
  let body: { valid?: boolean; data?: unknown; second_factor_token?: unknown } = {}
  try {
    body = (await response.json()) as typeof body
  } catch {
    // not JSON: a proxy's error page, say
  }
  if (response.ok && body.valid) return { ok: true, data: body.data as T }
  const retryAfter = Number(response.headers.get('retry-after'))
  const fieldWords =
    body.data && typeof body.data === 'object'
      ? Object.values(body.data as FieldErrors)
          .flat()
          .join(' ')
      : ''
  return {
    ok: false,
    status: response.status,
    // a 400's field messages, for a caller that has no field to put them under
    message:
      typeof body.data === 'string' ? body.data : fieldWords || `The server answered ${response.status}`,
    ...(body.data && typeof body.data === 'object' ? { fields: body.data as FieldErrors } : {}),
    ...(retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    ...(typeof body.second_factor_token === 'string' ? { secondFactorToken: body.second_factor_token } : {}),
  }
}

const send = <T>(method: string, path: string, body: unknown = {}) =>
  call<T>(path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const postJson = <T>(path: string, body: unknown = {}) => send<T>('POST', path, body)

/** `?a=1&b=2` of the given values, leaving out empty ones */
function query(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== '') params.set(name, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

export const api = {
  login: (email: string, password: string) => postJson<AccessToken>('/user/auth', { email, password }),
  secondFactor: (token: string, code: string) =>
    postJson<AccessToken>('/user/auth/second-factor', { token, code }),
  /** a token (201), or a notice when the email must be verified before the first login (202) */
  register: (email: string, password: string, display_name: string) =>
    postJson<AccessToken | string>('/user/register', { email, password, display_name }),
  changeProfile: (display_name: string) => send<User>('PATCH', '/user/profile', { display_name }),
  me: () => call<User>('/user/me'),
  logout: () => postJson<SessionsEnded>('/user/logout'),
  /** the mailed link's token; it logs the user in, unless a second factor is on (no access_token then) */
  verifyEmail: (token: string) =>
    postJson<{ confirmed: true; access_token?: string }>('/user/verify-email', { token }),
  resendVerification: (email: string) => postJson<string>('/user/verify-email/resend', { email }),
  changeEmail: (new_email: string, password: string) =>
    postJson<string>('/user/email', { new_email, password }),
  confirmEmail: (token: string) => postJson<string>('/user/email/confirm', { token }),
  requestPasswordReset: (email: string) => postJson<string>('/user/password-reset', { email }),
  resetPassword: (token: string, password: string) =>
    postJson<string>('/user/password-reset/confirm', { token, password }),
  changePassword: (current_password: string, new_password: string, end_other_sessions: boolean) =>
    postJson<SessionsEnded>('/user/password', { current_password, new_password, end_other_sessions }),
  sessions: () => call<SessionInfo[]>('/user/sessions'),
  endSession: (id: string) => send<SessionsEnded>('DELETE', `/user/sessions/${encodeURIComponent(id)}`),
  twoFactorStatus: () => call<{ enabled: boolean; recovery_codes_left: number }>('/user/2fa'),
  twoFactorSetup: (password: string) =>
    postJson<{ secret: string; otpauth_uri: string }>('/user/2fa/setup', { password }),
  twoFactorEnable: (code: string) => postJson<{ recovery_codes: string[] }>('/user/2fa/enable', { code }),
  renewRecoveryCodes: (code: string) =>
    postJson<{ recovery_codes: string[] }>('/user/2fa/recovery-codes', { code }),
  twoFactorDisable: (password: string, code: string) =>
    postJson<unknown>('/user/2fa/disable', { password, code }),
  deleteAccount: (password: string, code?: string) =>
    postJson<string>('/user/delete-account', code ? { password, code } : { password }),
  /** messages of the user's rooms with all the words, best match first */
  search: (filter: SearchQuery) => call<SearchPage>(`/search${query({ ...filter })}`),
  admin: {
    users: (q: string, offset: number, limit: number) =>
      call<AdminUsersPage>(`/admin/users${query({ q, offset, limit })}`),
    act: (id: string, action: AdminAction) => postJson<unknown>(`/admin/users/${id}/${action}`),
    deleteUser: (id: string) => send<string>('DELETE', `/admin/users/${id}`),
    audit: (filter: { event?: AuditEventName | ''; user_id?: string; before?: string; limit: number }) =>
      call<AuditEvent[]>(`/admin/audit${query(filter)}`),
    settings: () => call<InstanceSettings>('/admin/settings'),
    changeSettings: (settings: InstanceSettings) =>
      send<InstanceSettings>('PUT', '/admin/settings', settings),
  },
}
