import type { FastifyBaseLogger } from 'fastify';
import { WebSocket } from 'ws';
import type { SessionUser } from '../sessions/session-store.ts';
/** One open WebSocket of an authenticated user, whatever protocol it speaks. */
export declare class Peer {
    readonly socket: WebSocket;
    readonly user: SessionUser;
    readonly token: string;
    private readonly sendBufferLimit;
    private readonly log;
    /** cleared at each heartbeat ping, set by the pong (or any message) */
    alive: boolean;
    constructor(socket: WebSocket, user: SessionUser, token: string, sendBufferLimit: number, log: FastifyBaseLogger);
    /**
     * Sends unless the peer has stopped reading: once more than `sendBufferLimit` bytes wait in its buffer
     * the connection is cut, so one slow client cannot make the server hold an ever-growing queue.
     */
    send(frame: string): void;
    close(code: number, reason: string): void;
}
