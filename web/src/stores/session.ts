import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { User } from '@chat/contract'
import { api, type ApiResult } from '../lib/api'

/** Tabs of the same browser hear of a logout at once; others learn through the server's 4001 close. */
const tabs = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel('chat-session')

export const useSessionStore = defineStore('session', () => {
  const user = ref<User | null>(null)
  /** why the user is on the login page, when it was not by choice */
  const endedBecause = ref<string | null>(null)
  let checked = false

  /** Asks the server who is logged in (the cookie is not readable here, and that is the point). */
  async function check(): Promise<User | null> {
    if (checked) return user.value
    const result = await api.me()
    user.value = result.ok ? result.data : null
    checked = result.ok || result.status === 401
    return user.value
  }

  async function afterLogin(result: ApiResult<unknown>): Promise<ApiResult<unknown>> {
    // a string is a notice (registered, the email to verify first): nobody is logged in yet
    if (!result.ok || typeof result.data === 'string') return result
    endedBecause.value = null
    await refresh()
    return result
  }

  const login = async (email: string, password: string) => afterLogin(await api.login(email, password))
  const register = async (email: string, password: string, displayName: string) =>
    afterLogin(await api.register(email, password, displayName))
  const verifyEmail = async (token: string) => afterLogin(await api.verifyEmail(token))
  /** asks the server again, after something changed the user (their email, say) */
  async function refresh(): Promise<void> {
    checked = false
    await check()
  }
  const secondFactor = async (token: string, code: string) => afterLogin(await api.secondFactor(token, code))

  function ended(reason: string): void {
    user.value = null
    checked = true
    endedBecause.value = reason
  }

  async function logout(): Promise<void> {
    await api.logout()
    ended('You logged out.')
    tabs?.postMessage('logout')
  }

  tabs?.addEventListener('message', () => ended('You logged out in another tab.'))

  return { user, endedBecause, check, refresh, login, register, secondFactor, verifyEmail, logout, ended }
})
