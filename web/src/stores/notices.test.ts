import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { NOTICE_SHOWN_MS, useNotices } from './notices'

describe('notices', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    vi.useFakeTimers()
  })
  afterEach(() => vi.useRealTimers())

  const texts = () => useNotices().shown.map((notice) => notice.text)

  it('go away by themselves, or when dismissed, and never show one text twice', () => {
    const notices = useNotices()
    notices.show('A room named x exists already.')
    vi.advanceTimersByTime(NOTICE_SHOWN_MS / 2)
    notices.show('Something else.')
    notices.show('A room named x exists already.') // again: one notice, shown anew
    expect(texts()).toEqual(['Something else.', 'A room named x exists already.'])
    notices.dismiss(notices.shown[0]!.id)
    expect(texts()).toEqual(['A room named x exists already.'])
    vi.advanceTimersByTime(NOTICE_SHOWN_MS - 1)
    expect(texts()).toEqual(['A room named x exists already.'])
    vi.advanceTimersByTime(1)
    expect(texts()).toEqual([])
  })
})
