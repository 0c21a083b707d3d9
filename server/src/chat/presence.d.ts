import type { ChatUser } from '@chat/contract';
import type { Redis } from 'ioredis';
/** Who is online per room, per process; a process that dies stops counting once its heartbeat key lapses. */
export interface PresenceStore {
    write(room: string, processId: string, users: ChatUser[]): Promise<void>;
    /** every live process's users of the room (a user on two processes appears twice) */
    read(room: string): Promise<ChatUser[][]>;
    keepAlive(processId: string): Promise<void>;
}
export declare class RedisPresenceStore implements PresenceStore {
    private readonly redis;
    private readonly prefix;
    private readonly processTtlMs;
    constructor(redis: Redis, prefix: string, processTtlMs: number);
    private roomKey;
    write(room: string, processId: string, users: ChatUser[]): Promise<void>;
    read(room: string): Promise<ChatUser[][]>;
    keepAlive(processId: string): Promise<void>;
}
export declare class MemoryPresenceStore implements PresenceStore {
    private readonly rooms;
    write(room: string, processId: string, users: ChatUser[]): Promise<void>;
    read(room: string): Promise<ChatUser[][]>;
    keepAlive(): Promise<void>;
}
/** This process's share of presence: how many of its connections each user has in each room. */
export declare class LocalPresence {
    private readonly rooms;
    /** true when the user was not in the room on this process before */
    add(room: string, user: ChatUser): boolean;
    /** true when that was the user's last connection in the room on this process */
    remove(room: string, userId: string): boolean;
    users(room: string): ChatUser[];
    roomNames(): string[];
}
/** One list per room, each user once, in a stable order. */
export declare function mergeOnline(perProcess: ChatUser[][]): ChatUser[];
