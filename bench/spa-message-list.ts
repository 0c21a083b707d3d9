// `npm run bench -- spa`: the SPA's message list in Chromium, at desktop speed and with the CPU slowed 4x
// (Chromium's CPU throttling, about a mid-range phone): 5,000 messages held, then 200 live ones at 20 a
// second. Reports the long tasks and how late each message reached the page. The browser suite runs the
// same scenario unthrottled, with limits (web/e2e/everyday.browser.test.ts).
import { launchChromium } from '../web/e2e/browser.ts'
import { logIn, messageItem, registerAccount } from '../web/e2e/chat-page.ts'
import { fakeChatServer, pastMessages } from '../web/e2e/fake-chat-server.ts'
import { floodLiveMessages, watchLiveMessages } from '../web/e2e/message-flood.ts'
import { startServer } from '../web/e2e/test-server.ts'

const HISTORY = 5_000
const LIVE = 200
const PER_SECOND = 20
const ROUNDS = Number(process.env.BENCH_SPA_ROUNDS ?? 3)

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  )

export async function benchMessageList(): Promise<void> {
  const server = await startServer()
  const browser = await launchChromium(server.trustedSpki)
  try {
    const results: Record<
      number,
      { p50: number; p99: number; worst: number; longTasks: number; longest: number }[]
    > = { 1: [], 4: [] }
    // interleaved, after a warm-up round of each that is not counted: 1x 4x 1x 4x…
    for (let round = 0; round <= ROUNDS; round++) {
      for (const slowdown of [1, 4]) {
        const account = await registerAccount(server.url)
        const other = { id: 'other', name: 'Other person', verified: true }
        const context = await browser.newContext()
        try {
          const page = await context.newPage()
          await watchLiveMessages(page)
          const chat = await fakeChatServer(page, {
            user: { id: 'me', name: account.name, verified: true },
            history: pastMessages(HISTORY, other),
          })
          await logIn(page, server.url, account)
          await messageItem(page, new RegExp(`^history ${HISTORY}$`)).waitFor({ timeout: 120_000 })
          const cdp = await context.newCDPSession(page)
          await cdp.send('Emulation.setCPUThrottlingRate', { rate: slowdown })
          const { latencies, longTasks } = await floodLiveMessages(page, chat, {
            count: LIVE,
            perSecond: PER_SECOND,
            author: other,
            firstSeq: HISTORY + 1,
          })
          const sorted = [...latencies].sort((a, b) => a - b)
          const result = {
            p50: percentile(sorted, 0.5),
            p99: percentile(sorted, 0.99),
            worst: sorted.at(-1)!,
            longTasks: longTasks.length,
            longest: Math.max(0, ...longTasks),
          }
          console.log(
            `spa message list, round ${round}${round === 0 ? ' (warm-up)' : ''}, CPU ${slowdown}x: ` +
              `latency p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, worst ${result.worst.toFixed(0)} ms; ` +
              `${result.longTasks} long tasks, longest ${result.longest.toFixed(0)} ms`,
          )
          if (round > 0) results[slowdown]!.push(result)
        } finally {
          await context.close()
        }
      }
    }
    for (const slowdown of [1, 4]) {
      const runs = results[slowdown]!
      const spread = (key: keyof (typeof runs)[number]) =>
        `${median(runs.map((run) => run[key])).toFixed(0)} (${Math.min(...runs.map((run) => run[key])).toFixed(0)}-${Math.max(...runs.map((run) => run[key])).toFixed(0)})`
      console.log(
        `spa message list, ${HISTORY} held + ${LIVE} live at ${PER_SECOND}/s, CPU ${slowdown}x, median (min-max) of ${runs.length}: ` +
          `latency p99 ${spread('p99')} ms, worst ${spread('worst')} ms; long tasks ${spread('longTasks')}, longest ${spread('longest')} ms`,
      )
    }
  } finally {
    await browser.close()
    await server.stop()
  }
}
