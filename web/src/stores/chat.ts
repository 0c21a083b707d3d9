import { DEFAULT_ROOM, MESSAGE_TEXT_PATTERN, type ChatMessage, type ChatUser } from '@chat/contract'
import { defineStore } from 'pinia'
import { computed, reactive, ref, shallowRef } from 'vue'
import { ChatClient, type ConnectionStatus } from '../lib/chat-client'

/** A message as shown: stored ones have a seq; the user's own wait as pending until acknowledged. */
export interface ShownMessage {
  key: string
  author: ChatUser
  text: string
  at: string
  seq?: number
  /** `failed`: refused by the server as invalid; sending it again would not help */
  state: 'pending' | 'sent' | 'failed'
}

const TYPING_SHOWN_MS = 5_000
/** the server's rule for message text, checked before sending (docs/protocol.md, "Message text") */
const MESSAGE_TEXT = new RegExp(MESSAGE_TEXT_PATTERN)

const shownOf = (message: ChatMessage): ShownMessage => ({
  key: message.clientId,
  author: message.author,
  text: message.text,
  at: message.at,
  seq: message.seq,
  state: 'sent',
})

export function chatSocketUrl(location: Location = window.location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
}

export const useChatStore = defineStore('chat', () => {
  const status = ref<ConnectionStatus>('connecting')
  const statusDetail = ref<string | undefined>()
  const me = ref<ChatUser | null>(null)
  const rooms = ref<string[]>([])
  const current = ref(DEFAULT_ROOM)
  const messagesByRoom = reactive(new Map<string, ShownMessage[]>())
  const onlineByRoom = reactive(new Map<string, ChatUser[]>())
  const typingByRoom = reactive(new Map<string, Map<string, { user: ChatUser; until: number }>>())
  const lastError = ref<string | null>(null)
  /** rooms with messages before the oldest one shown, for the "Load older messages" button */
  const hasOlderByRoom = reactive(new Map<string, boolean>())
  const client = shallowRef<ChatClient | null>(null)

  const messages = computed(() => messagesByRoom.get(current.value) ?? [])
  const online = computed(() => onlineByRoom.get(current.value) ?? [])
  const hasOlder = computed(() => hasOlderByRoom.get(current.value) ?? false)
  const typing = computed(() =>
    [...(typingByRoom.get(current.value)?.values() ?? [])]
      .filter((entry) => entry.user.id !== me.value?.id)
      .map((entry) => entry.user),
  )

  const listOf = (room: string) => {
    if (!messagesByRoom.has(room)) messagesByRoom.set(room, [])
    return messagesByRoom.get(room)!
  }

  function start(url = chatSocketUrl(), onEnded: (reason: string) => void = () => {}): void {
    client.value?.stop()
    const chat = new ChatClient(
      { url },
      {
        status(next, detail) {
          status.value = next
          statusDetail.value = detail
          if (next === 'ended') onEnded(detail ?? 'Your session has ended')
        },
        welcome(user, names) {
          me.value = user
          rooms.value = names
        },
        roomCreated(room) {
          if (!rooms.value.includes(room)) rooms.value = [...rooms.value, room].sort()
        },
        messages(room, stored) {
          const list = listOf(room)
          for (const message of stored) {
            const shown = shownOf(message)
            // our own pending copy becomes the stored one, in its place in the order
            const mine = list.findIndex((item) => item.state === 'pending' && item.key === message.clientId)
            if (mine !== -1) list.splice(mine, 1)
            const after = list.findIndex((item) => item.state === 'pending' || (item.seq ?? 0) > message.seq)
            list.splice(after === -1 ? list.length : after, 0, shown)
          }
        },
        older(room, stored, more) {
          hasOlderByRoom.set(room, more)
          listOf(room).unshift(...stored.map(shownOf))
        },
        acked(clientId, stored) {
          for (const list of messagesByRoom.values()) {
            const item = list.find((message) => message.key === clientId && message.state === 'pending')
            if (item) item.at = stored.at
          }
        },
        joined(room, users) {
          onlineByRoom.set(room, users)
        },
        presence(room, users) {
          onlineByRoom.set(room, users)
        },
        typing(room, user, isTyping) {
          const users = typingByRoom.get(room) ?? new Map()
          if (isTyping) users.set(user.id, { user, until: Date.now() + TYPING_SHOWN_MS })
          else users.delete(user.id)
          typingByRoom.set(room, users)
        },
        error(code, message, ref) {
          lastError.value = code === 'rate_limited' ? 'You are sending too fast; wait a moment.' : message
          if (code !== 'invalid_message' || !ref) return
          for (const list of messagesByRoom.values()) {
            const item = list.find((shown) => shown.key === ref && shown.state === 'pending')
            if (item) item.state = 'failed'
          }
        },
      },
    )
    client.value = chat
    chat.join(current.value)
    chat.connect()
  }

  function stop(): void {
    client.value?.stop()
    client.value = null
  }

  function open(room: string): void {
    current.value = room
    client.value?.join(room)
  }

  function loadOlder(): void {
    client.value?.loadOlder(current.value)
  }

  function createRoom(room: string): void {
    client.value?.createRoom(room)
  }

  function send(text: string): boolean {
    if (!client.value || !me.value || text.trim() === '') return false
    if (!MESSAGE_TEXT.test(text)) {
      lastError.value = 'A message may hold no control characters but newline and tab.'
      return false
    }
    const clientId = client.value.send(current.value, text)
    listOf(current.value).push({
      key: clientId,
      author: me.value,
      text,
      at: new Date().toISOString(),
      state: 'pending',
    })
    return true
  }

  function setTyping(isTyping: boolean): void {
    client.value?.typing(current.value, isTyping)
  }

  return {
    status,
    statusDetail,
    me,
    rooms,
    current,
    messages,
    online,
    hasOlder,
    typing,
    lastError,
    start,
    stop,
    open,
    loadOlder,
    createRoom,
    send,
    setTyping,
  }
})
