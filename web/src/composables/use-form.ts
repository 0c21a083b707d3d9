import type { FieldErrors } from '@chat/contract'
import { ref } from 'vue'
import type { ApiResult } from '../lib/api'
import { retryWording } from '../lib/wording'

/**
 * The state every form of the SPA shares: errors per field (the server's 400, or the same checks made
 * before sending), one error for the whole form (announced by its role="alert"), and a wait while sending.
 */
export function useForm() {
  const fields = ref<FieldErrors>({})
  const formError = ref<string | null>(null)
  const waiting = ref(false)
  /** the HTTP status of the last refusal (0: the server could not be reached) */
  const refusedWith = ref<number | null>(null)

  /** Refuses empty fields with a sentence each, before anything is sent; true when all are filled. */
  function requireFilled(values: Record<string, string>, messages: Record<string, string>): boolean {
    fields.value = {}
    formError.value = null
    for (const [name, message] of Object.entries(messages)) {
      if (values[name]?.trim() === '') fields.value[name] = [message]
    }
    return Object.keys(fields.value).length === 0
  }

  /**
   * Sends, and on a refusal puts its words where they belong. `tooMany` begins the sentence of a 429.
   * Answers the data, or undefined when refused.
   */
  async function submit<T>(send: () => Promise<ApiResult<T>>, tooMany = 'Too many attempts.') {
    formError.value = null
    waiting.value = true
    try {
      const result = await send()
      refusedWith.value = result.ok ? null : result.status
      if (result.ok) {
        fields.value = {}
        return result.data
      }
      if (result.status === 429)
        formError.value = `${tooMany} Try again ${retryWording(result.retryAfterSeconds)}.`
      else if (result.fields) {
        fields.value = result.fields
        formError.value = result.fields._schema?.join(' ') ?? null
      } else formError.value = result.message
      return undefined
    } finally {
      waiting.value = false
    }
  }

  return { fields, formError, waiting, refusedWith, requireFilled, submit }
}
