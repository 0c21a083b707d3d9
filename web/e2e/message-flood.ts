import type { ChatUser } from '@chat/contract'
import type { Page } from 'playwright-core'
import type { FakeChatServer } from './fake-chat-server.ts'

export interface FloodResult {
  /** every long task (> 50 ms, as Chromium reports them) while the live messages came, in ms */
  longTasks: number[]
  /** per live message: from its sending (by the test) to its text in the page, in ms (one machine, one clock) */
  latencies: number[]
}

/**
 * Installs, before the page's own scripts, what measures it: the long tasks, and the moment the text of
 * each live message enters the page. Call before the page loads.
 */
export async function watchLiveMessages(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const state = {
      longTasks: [] as number[],
      shown: {} as Record<string, number>,
    }
    Object.assign(window, { liveMessageWatch: state })
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) state.longTasks.push(entry.duration)
    }).observe({ type: 'longtask' })
    new MutationObserver((mutations) => {
      for (const mutation of mutations) {
        mutation.addedNodes.forEach((node) => {
          if (!(node instanceof HTMLElement)) return
          // a message's text is one element of the paragraph role (MessageText.vue)
          node.querySelectorAll('[role="paragraph"]').forEach((paragraph) => {
            const text = paragraph.textContent ?? ''
            if (text.startsWith('live ') && state.shown[text] === undefined) state.shown[text] = Date.now()
          })
        })
      }
    }).observe(document, { childList: true, subtree: true })
  })
}

/** Sends `count` live messages at `perSecond` through the fake server, then reads what the page measured. */
export async function floodLiveMessages(
  page: Page,
  server: FakeChatServer,
  {
    count,
    perSecond,
    author,
    firstSeq,
  }: { count: number; perSecond: number; author: ChatUser; firstSeq: number },
): Promise<FloodResult> {
  await page.evaluate(() => {
    ;(window as unknown as { liveMessageWatch: { longTasks: number[] } }).liveMessageWatch.longTasks = []
  })
  const sentAt: number[] = []
  for (let i = 1; i <= count; i++) {
    sentAt.push(Date.now())
    server.push({
      room: 'general',
      seq: firstSeq + i - 1,
      id: `live-${i}`,
      author,
      clientId: `live-${i}`,
      text: `live ${i}`,
      at: new Date().toISOString(),
    })
    await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond))
  }
  await page.getByRole('list', { name: 'Messages' }).getByText(`live ${count}`, { exact: true }).waitFor()
  const measured = await page.evaluate(
    () =>
      (window as unknown as { liveMessageWatch: { longTasks: number[]; shown: Record<string, number> } })
        .liveMessageWatch,
  )
  return {
    longTasks: measured.longTasks,
    latencies: sentAt.map((sent, i) => (measured.shown[`live ${i + 1}`] ?? Infinity) - sent),
  }
}
