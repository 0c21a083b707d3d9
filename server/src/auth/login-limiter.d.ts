import type { Redis } from 'ioredis';
export interface LoginLimits {
    maxFailuresPerAccount: number;
    maxFailuresPerAddress: number;
    windowSeconds: number;
}
/**
 * Counts login attempts per account and per client address (OWASP Authentication Cheat Sheet: throttle,
 * never lock out for good). Each attempt takes a point before the password is checked, so parallel
 * guesses cannot slip past the count; a success hands its points back. Counters expire with the window,
 * so the real user is at most delayed, and they live in Redis when there is one, shared by all processes.
 */
export declare class LoginLimiter {
    private readonly byAccount;
    private readonly byAddress;
    constructor(limits: LoginLimits, store: {
        redis: Redis;
        keyPrefix: string;
    } | undefined);
    /** Takes one attempt; returns how many seconds to wait when the attempt is over a limit, else 0. */
    attempt(email: string, address: string): Promise<number>;
    /** The right password clears the account's count and gives the address its attempt back. */
    succeeded(email: string, address: string): Promise<void>;
}
