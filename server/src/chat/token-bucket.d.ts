/** Per-connection message budget: `ratePerSecond` on average, bursts of twice that. */
export declare class TokenBucket {
    private readonly ratePerSecond;
    private readonly capacity;
    private readonly now;
    private tokens;
    private updatedAt;
    constructor(ratePerSecond: number, capacity?: number, now?: () => number);
    take(): boolean;
}
