import type { ChatMessage } from '@chat/contract';
import type { Bus } from '../redis/bus.ts';
import type { ChatRepository, Room } from './chat-repository.ts';
/** Whoever is in a room on this process: gets each frame of it once, messages in `seq` order. */
export interface RoomMember {
    /** `seq` for a stored message, undefined for a passing event (typing); `frame` is ready-made JSON */
    deliver(room: string, seq: number | undefined, frame: string): void;
}
/** The one serialisation of a message, whoever sends it: the publisher, or a process filling a gap. */
export declare const messageFrame: (message: ChatMessage) => string;
declare class RoomFeed {
    readonly room: Room;
    readonly handler: (payload: string) => void;
    /** the highest `seq` delivered here with nothing missing below it; -1 until the room's state is read */
    lastSeq: number;
    readonly pending: Map<number, string>;
    readonly members: Set<RoomMember>;
    gapTimer: NodeJS.Timeout | undefined;
    constructor(room: Room, handler: (payload: string) => void);
}
/**
 * One subscription per room per process, and in-order, gap-free delivery to its members. Messages of a
 * room commit in `seq` order (the room row is locked to number them), but their announcements can cross
 * on the bus; a message that arrives early waits briefly for the ones before it, which are then read from
 * the database if their announcement was lost. A `seq` that never committed leaves a hole that is skipped.
 */
export declare class RoomFeeds {
    private readonly bus;
    private readonly repository;
    private readonly channelPrefix;
    private readonly onPresenceSignal;
    private readonly gapWaitMs;
    private readonly feeds;
    constructor(bus: Bus, repository: ChatRepository, channelPrefix: string, onPresenceSignal: (room: string) => void, gapWaitMs?: number);
    channel: (room: string) => string;
    /** Adds a member, subscribing this process to the room first if it was not yet. */
    join(room: Room, member: RoomMember): Promise<void>;
    leave(roomName: string, member: RoomMember): Promise<void>;
    /** Announces a stored message to every process. */
    publishMessage(message: ChatMessage): Promise<void>;
    /** Announces a passing event (typing) to the room's members on every process. */
    publishEvent(room: string, frame: string): Promise<void>;
    publishPresenceSignal(room: string): Promise<void>;
    membersOf(roomName: string): Promise<RoomFeed | undefined>;
    private open;
    private onPayload;
    private drain;
    /** Reads what the bus did not bring, then delivers up to the highest `seq` announced, skipping holes. */
    private fillGap;
    private deliverUpTo;
    /** After the bus was down: whatever committed meanwhile, read from the database. */
    private catchUp;
}
export {};
