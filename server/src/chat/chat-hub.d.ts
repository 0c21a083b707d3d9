import type { ChatUser } from '@chat/contract';
import type { FastifyBaseLogger } from 'fastify';
import type { Bus } from '../redis/bus.ts';
import type { ChatRepository } from './chat-repository.ts';
import { type PresenceStore } from './presence.ts';
import { RoomFeeds } from './room-feeds.ts';
export interface ChatSettings {
    historyLimit: number;
    messagesPerSecond: number;
    /** how often presence is refreshed; a dead process's users vanish within about three of these */
    presenceIntervalMs: number;
}
/** Something that can be told of new rooms: every open chat connection of this process. */
export interface RoomListener {
    roomCreated(frame: string): void;
}
/**
 * The chat's state on one process: room feeds, presence, and the connections to tell of new rooms.
 * Everything crossing processes goes through the bus; everything durable through the repository.
 */
export declare class ChatHub {
    readonly repository: ChatRepository;
    private readonly bus;
    private readonly presence;
    private readonly processId;
    readonly settings: ChatSettings;
    private readonly log;
    readonly feeds: RoomFeeds;
    private readonly local;
    private readonly lastOnline;
    private readonly listeners;
    private readonly roomsChannel;
    private timer;
    private readonly onRoomCreated;
    constructor(repository: ChatRepository, bus: Bus, presence: PresenceStore, channelPrefix: string, processId: string, settings: ChatSettings, log: FastifyBaseLogger);
    start(): Promise<void>;
    stop(): Promise<void>;
    listen(listener: RoomListener): void;
    unlisten(listener: RoomListener): void;
    announceRoom(room: string): Promise<void>;
    /** A connection joins a room: it hears the room from now on, and everyone hears it is online. */
    enter(room: string, user: ChatUser): Promise<ChatUser[]>;
    exit(room: string, user: ChatUser): Promise<void>;
    online(room: string): Promise<ChatUser[]>;
    private publishLocalPresence;
    /** Re-reads a room's presence and tells its members here, once per change. */
    private refreshPresence;
    private tick;
}
