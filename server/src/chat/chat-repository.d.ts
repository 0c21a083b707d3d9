import type { ChatMessage } from '@chat/contract';
import type { Db } from '../db/database.ts';
export interface Room {
    id: string;
    name: string;
    lastSeq: number;
}
/** The only module that reads or writes `rooms` and `messages`. */
export declare class ChatRepository {
    private readonly db;
    constructor(db: Db);
    roomNames(): Promise<string[]>;
    findRoom(name: string): Promise<Room | undefined>;
    /** false when a room of that name exists already */
    createRoom(name: string, createdBy: string): Promise<boolean>;
    /**
     * Stores a message under the room's next `seq`, unless this user already sent one with this client id:
     * then that one comes back, with `created: false`. One statement, so the room lock lasts one round trip.
     */
    insertMessage(room: Room, author: {
        id: string;
        email: string;
    }, clientId: string, text: string): Promise<{
        message: ChatMessage;
        created: boolean;
    }>;
    /** Messages with `after < seq <= upTo`, oldest first, at most `limit`. */
    messagesAfter(room: Room, after: number, limit: number, upTo?: number): Promise<ChatMessage[]>;
    /** The last `limit` messages, oldest first. */
    lastMessages(room: Room, limit: number): Promise<ChatMessage[]>;
    private messages;
}
