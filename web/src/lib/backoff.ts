/**
 * Delay before reconnect attempt `attempt` (0-based): exponential with "full jitter" (AWS Architecture Blog,
 * "Exponential Backoff and Jitter"), so clients cut off together do not all come back at once.
 */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  baseMs = 500,
  // at most 5 s: a page whose session was lost while the server was away learns it soon after it is back
  maxMs = 5_000,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt)
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
