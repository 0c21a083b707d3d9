import type { Peer } from '../ws/peer.ts';
import type { ChatHub, RoomListener } from './chat-hub.ts';
import type { RoomMember } from './room-feeds.ts';
/** One `chat.v1` connection: parses what the client says, and delivers what its rooms say. */
export declare class ChatConnection implements RoomMember, RoomListener {
    private readonly peer;
    private readonly hub;
    private readonly rooms;
    private readonly budget;
    private overBudget;
    /** one message at a time, in arrival order: two sends are stored, acked and seen in the order sent */
    private work;
    private readonly user;
    constructor(peer: Peer, hub: ChatHub);
    start(heartbeatMs: number): Promise<void>;
    deliver(room: string, seq: number | undefined, frame: string): void;
    roomCreated(frame: string): void;
    private send;
    private stop;
    /** The budget is taken on arrival, so a flood is refused before it queues up behind slow work. */
    private receive;
    private process;
    private handle;
    private membership;
    /**
     * Live messages are held from the moment the room is joined, history is sent, then the held ones
     * flushed: the client gets every message once, in order, with no gap between history and live.
     */
    private join;
    private sendJoin;
    private sendHistory;
    private exit;
    /** Stored first, then acknowledged, then announced: an ack means the message is safe. */
    private sendMessage;
}
