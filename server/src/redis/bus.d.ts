import { Redis } from 'ioredis';
export type BusHandler = (message: string) => void;
/**
 * Publish/subscribe between the processes of one deployment: Redis pub/sub, or, in the embedded default,
 * within this process. Handlers of one channel get its messages in the order they were published.
 */
export interface Bus {
    publish(channel: string, message: string): Promise<void>;
    subscribe(channel: string, handler: BusHandler): Promise<void>;
    unsubscribe(channel: string, handler: BusHandler): Promise<void>;
    /** called after the bus lost and regained its connection: messages may have been missed meanwhile */
    onResubscribed(listener: () => void): void;
    close(): Promise<void>;
}
export declare class LocalBus implements Bus {
    private readonly subscriptions;
    publish(channel: string, message: string): Promise<void>;
    subscribe(channel: string, handler: BusHandler): Promise<void>;
    unsubscribe(channel: string, handler: BusHandler): Promise<void>;
    onResubscribed(): void;
    close(): Promise<void>;
}
export declare class RedisBus implements Bus {
    private readonly publisher;
    private readonly subscriptions;
    private readonly subscriber;
    private readonly resubscribedListeners;
    private connectedOnce;
    /** `publisher` is the shared command connection; subscribing takes a connection of its own. */
    constructor(publisher: Redis, url: string);
    connect(): Promise<void>;
    publish(channel: string, message: string): Promise<void>;
    subscribe(channel: string, handler: BusHandler): Promise<void>;
    unsubscribe(channel: string, handler: BusHandler): Promise<void>;
    onResubscribed(listener: () => void): void;
    close(): Promise<void>;
}
