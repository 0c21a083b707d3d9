import type { Redis } from 'ioredis';
import { type Session, type SessionLifetimes, type SessionStore, type SessionUser } from './session-store.ts';
export declare class RedisSessionStore implements SessionStore {
    private readonly redis;
    private readonly prefix;
    private readonly lifetimes;
    private readonly eventsChannel;
    constructor(redis: Redis, prefix: string, lifetimes: SessionLifetimes);
    private sessionKey;
    private userKey;
    create(user: SessionUser): Promise<string>;
    touch(token: string): Promise<Session | undefined>;
    touchMany(tokens: string[]): Promise<(Session | undefined)[]>;
    revoke(token: string): Promise<SessionUser | undefined>;
    revokeAllForUser(userId: string): Promise<number>;
}
