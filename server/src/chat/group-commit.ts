import type { ChatMessage } from '@chat/contract'
import type { ChatStore, NewMessage, Room, StoredMessage } from './chat-repository.ts'

interface QueuedSend extends NewMessage {
  /** told as soon as its batch is stored, before the batch is announced: the sender's ack */
  stored: (result: StoredMessage) => void
  done: (error?: unknown) => void
}

/**
 * Group commit for one process: while a room's insert is in flight, further sends to that room wait in
 * its queue, and the next statement stores the whole queue at once (up to `maxBatch`). Under load one
 * round trip and one room-row lock then carry many messages instead of one each; alone, a send is stored
 * at once, as before. Each batch is announced with one `announce` call, issued before the next batch is
 * stored, so announcements leave this process in `seq` order.
 */
export class GroupCommit {
  private readonly queues = new Map<string, QueuedSend[]>()

  constructor(
    private readonly store: Pick<ChatStore, 'insertMessages'>,
    private readonly announce: (messages: ChatMessage[]) => Promise<void>,
    private readonly maxBatch: number,
  ) {}

  /**
   * Stores the message; `stored` hears the outcome once it is durable; resolves once it is announced (or
   * needed no announcement, being a re-send), rejects when storing or announcing failed.
   */
  send(room: Room, message: NewMessage, stored: (result: StoredMessage) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const item: QueuedSend = {
        ...message,
        stored,
        done: (error) => (error === undefined ? resolve() : reject(error)),
      }
      const queue = this.queues.get(room.id)
      if (queue) return void queue.push(item)
      const fresh = [item]
      this.queues.set(room.id, fresh)
      void this.drain(room, fresh)
    })
  }

  /** Stores the room's queue batch by batch until it is empty; the queue is forgotten at the end. */
  private async drain(room: Room, queue: QueuedSend[]): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, this.maxBatch)
      let results: StoredMessage[]
      try {
        results = await this.store.insertMessages(room, batch)
      } catch (error) {
        // each sender hears of it and logs it with its own context (connection, ref)
        for (const item of batch) item.done(error)
        continue
      }
      batch.forEach((item, index) => {
        try {
          item.stored(results[index]!)
        } catch (error) {
          // one sender's failed ack is that sender's error; the batch is stored and is announced
          item.done(error)
        }
      })
      const created = results.filter((result) => result.created).map((result) => result.message)
      const announced = created.length > 0 ? this.announce(created) : Promise.resolve()
      announced.then(
        () => batch.forEach((item) => item.done()),
        (error: unknown) => batch.forEach((item) => item.done(error)),
      )
    }
    this.queues.delete(room.id)
  }
}
