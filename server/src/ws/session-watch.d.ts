import type { FastifyBaseLogger } from 'fastify';
import type { Bus } from '../redis/bus.ts';
import { type SessionStore } from '../sessions/session-store.ts';
import type { Peer } from './peer.ts';
/**
 * Keeps open sockets bound to live sessions with no store round trip per message: sessions are checked
 * at the upgrade, closed at once when the bus says they ended (logout, log out everywhere), closed at
 * their absolute end by a timer, and all re-checked in one batch every `intervalMs`, which also keeps
 * their idle timers fresh while the socket is open.
 */
export declare class SessionWatch {
    private readonly sessions;
    private readonly bus;
    private readonly eventsChannel;
    private readonly intervalMs;
    private readonly log;
    private readonly byHash;
    private readonly byUser;
    private readonly onEvent;
    private timer;
    private checking;
    constructor(sessions: SessionStore, bus: Bus, eventsChannel: string, intervalMs: number, log: FastifyBaseLogger);
    start(): Promise<void>;
    stop(): Promise<void>;
    connectionsOf(userId: string): number;
    peers(): Iterable<Peer>;
    add(peer: Peer, expiresAt: number): void;
    remove(peer: Peer): void;
    private expiryTimer;
    private handleEvent;
    private endSession;
    private check;
}
