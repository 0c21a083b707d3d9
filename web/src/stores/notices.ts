import { defineStore } from 'pinia'
import { ref } from 'vue'

export interface Notice {
  id: number
  text: string
}

/** How long a notice stays unless dismissed: long enough to read twice. */
export const NOTICE_SHOWN_MS = 10_000

/**
 * Passing notices of the chat page (a refused room name, a message refused as invalid): each goes away by
 * itself or when dismissed, and the same text is never shown twice at once.
 */
export const useNotices = defineStore('notices', () => {
  const shown = ref<Notice[]>([])
  const timers = new Map<number, ReturnType<typeof setTimeout>>()
  let nextId = 1

  function dismiss(id: number): void {
    clearTimeout(timers.get(id))
    timers.delete(id)
    shown.value = shown.value.filter((notice) => notice.id !== id)
  }

  function show(text: string): void {
    for (const notice of shown.value.filter((notice) => notice.text === text)) dismiss(notice.id)
    const id = nextId++
    shown.value = [...shown.value, { id, text }]
    timers.set(
      id,
      setTimeout(() => dismiss(id), NOTICE_SHOWN_MS),
    )
  }

  function clear(): void {
    for (const notice of shown.value) dismiss(notice.id)
  }

  return { shown, show, dismiss, clear }
})
