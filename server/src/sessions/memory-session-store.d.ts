import { type Session, type SessionLifetimes, type SessionStore, type SessionUser } from './session-store.ts';
/**
 * The embedded default's store: the same lifetimes as the Redis store, for one process. Expired entries
 * are dropped when looked up and by a sweep, so memory stays bounded by live sessions.
 */
export declare class MemorySessionStore implements SessionStore {
    private readonly lifetimes;
    private readonly publish;
    private readonly now;
    private readonly sessions;
    private readonly sweeper;
    /** `publish` hears of sessions that end early, in the words of SESSION_EVENTS_CHANNEL */
    constructor(lifetimes: SessionLifetimes, publish?: (event: string) => void, now?: () => number);
    create(user: SessionUser): Promise<string>;
    touch(token: string): Promise<Session | undefined>;
    touchMany(tokens: string[]): Promise<(Session | undefined)[]>;
    revoke(token: string): Promise<SessionUser | undefined>;
    revokeAllForUser(userId: string): Promise<number>;
    close(): void;
    private live;
    private sweep;
}
