import { CloseCode } from '@chat/contract'
import type { RawData } from 'ws'
import type { Peer } from './peer.ts'

/**
 * The original's protocol, for its clients: every non-empty text message comes back as
 * `I've received: <message>`; `/out` closes the connection; an empty message gets no answer.
 */
export function speakEcho(peer: Peer): void {
  peer.socket.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) return peer.close(CloseCode.unsupportedData, 'binary frames are not supported')
    const text = data.toString()
    if (text === '') return
    if (text === '/out') return peer.close(CloseCode.normal, 'bye')
    peer.send(`I've received: ${text}`)
  })
}
