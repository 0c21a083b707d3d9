import type { Peer } from './peer.ts';
/**
 * The original's protocol, for its clients: every non-empty text message comes back as
 * `I've received: <message>`; `/out` closes the connection; an empty message gets no answer.
 */
export declare function speakEcho(peer: Peer): void;
