/** Per-connection message budget: `ratePerSecond` on average, bursts of twice that. */
export class TokenBucket {
  private tokens: number
  private updatedAt: number

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity = ratePerSecond * 2,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.tokens = capacity
    this.updatedAt = now()
  }

  take(): boolean {
    const now = this.now()
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond)
    this.updatedAt = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
