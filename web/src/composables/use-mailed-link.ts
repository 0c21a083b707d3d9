import { onMounted, ref, type Ref } from 'vue'
import type { ApiResult } from '../lib/api'
import { useLinkToken } from './use-link-token'

/**
 * A page a mailed link opens where the link is the whole request (nothing to type): the token is sent once
 * the page is shown; its answer, or the server's words for why not, is kept.
 */
export function useMailedLink<T>(send: (token: string) => Promise<ApiResult<T>>) {
  const token = useLinkToken()
  const answer = ref<T | null>(null) as Ref<T | null>
  const refusal = ref<string | null>(null)
  onMounted(async () => {
    if (!token) return
    const result = await send(token)
    if (result.ok) answer.value = result.data
    else refusal.value = result.message
  })
  return { token, answer, refusal }
}
