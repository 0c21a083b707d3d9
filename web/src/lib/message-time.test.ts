import { describe, expect, it } from 'vitest'
import { dayLabel, messageTime } from './message-time'

describe('message times', () => {
  it('formats each distinct time once and hands back the same result after', () => {
    const at = '2026-03-04T05:06:07.000Z'
    const first = messageTime(at)
    expect(messageTime(at)).toBe(first)
    expect(first.epochMs).toBe(Date.parse(at))
    const local = new Date(at)
    expect(first.day).toBe(
      `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, '0')}-${String(local.getDate()).padStart(2, '0')}`,
    )
  })

  it('names days today, yesterday, then by date', () => {
    const now = new Date(2026, 0, 1, 12)
    expect(dayLabel('2026-01-01', now)).toBe('Today')
    expect(dayLabel('2025-12-31', now)).toBe('Yesterday')
    expect(dayLabel('2025-12-30', now)).toBe(
      new Date(2025, 11, 30).toLocaleDateString(undefined, { dateStyle: 'long' }),
    )
  })
})
