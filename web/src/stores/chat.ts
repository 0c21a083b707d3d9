import {
  DEFAULT_ROOM,
  MEMBER_MATCHES_MAX,
  MENTION_HINTS_MAX,
  MESSAGE_TEXT_PATTERN,
  TYPING_EXPIRES_MS,
  UNREAD_COUNT_MAX,
  type ChatMessage,
  type ChatUser,
  type MessageEdit,
  type MessageReaction,
  type MessageUpdate,
  type Reaction,
  type ReplyPreview,
  type RoomMemberEntry,
  type RoomRole,
  type RoomSummary,
} from '@chat/contract'
import { defineStore } from 'pinia'
import { computed, reactive, ref, shallowReactive, shallowRef } from 'vue'
import { api } from '../lib/api'
import { ChatClient, REFUSED_FOR_GOOD, type ConnectionStatus } from '../lib/chat-client'
import { notifyMention } from '../lib/mention-alerts'
import { mentionsUser } from '../lib/message-markup'
import { loadUnsent, saveUnsent, type UnsentMessage } from '../lib/unsent-messages'
import { useNotices } from './notices'

/** A message as shown: stored ones have a seq; the user's own wait as pending until acknowledged. */
export interface ShownMessage {
  key: string
  author: ChatUser
  text: string
  at: string
  seq?: number
  /** `failed`: refused by the server as invalid; sending it again would not help */
  state: 'pending' | 'sent' | 'failed'
  /** arrived live, after the room was opened (announced to screen readers; history is not) */
  live?: boolean
  editedAt?: string
  /** a tombstone: "message deleted" */
  deleted?: boolean
  replyTo?: ReplyPreview
  reactions?: MessageReaction[]
  /** it mentions the reader (by name, or an `@room` from a moderator) */
  mentionsMe?: boolean
}

/**
 * The earlier texts of one message, as a moderator reads them; `edits` undefined while asked for, and
 * `failed` the sentence to show when the question failed (it can be asked again).
 */
export interface EditHistory {
  room: string
  seq: number
  edits: MessageEdit[] | undefined
  /** the question's `ref`: an error naming it is about this dialog */
  ref?: string
  failed?: string
}

/** A text the writer saved as an edit that was not saved: the editor opens on it again, nothing lost. */
export interface EditDraft {
  room: string
  seq: number
  text: string
}

/** A change to a message this page asked for, by its `ref`: shown here at once if the server says it was saved. */
interface ChangeAsked {
  room: string
  seq: number
  apply: (item: ShownMessage) => ShownMessage
  /** an edit's new text: offered again in the editor if it was not saved */
  text?: string
}

/** Where a look-up of members by a name's start stands: out, or answered (in full or not) at `at`. */
type PrefixAsked = { asking: true } | { asking: false; complete: boolean; at: number }
/** how long the writer pauses on a name after `@` before the room's members starting so are asked for */
const COMPLETION_PAUSE_MS = 150
/**
 * how long an answer to a look-up of members stays true enough to complete from: a join is told only to
 * the one who joined, so others' pages learn of new members by asking again
 */
export const MEMBER_ANSWER_LIFETIME_MS = 30_000
/** how many changes asked for are remembered: those answered by an error are forgotten then, the rest age out */
const CHANGES_REMEMBERED = 50
/** what the reader is told of a change asked for while not connected: nothing went out */
export const CHANGE_NOT_SENT = 'Not connected; your change was not saved'
/** what the edit-history dialog says when its question could not go out, or its answer will not come */
const EDIT_HISTORY_NOT_SENT = 'Not connected; the earlier versions could not be asked for.'
const EDIT_HISTORY_LOST = 'The connection was lost before the earlier versions came.'

/** A stretch of a room's history around a message jumped to, shown instead of the live list. */
export interface HistoryWindow {
  /** the message jumped to: highlighted */
  target: number
  messages: ShownMessage[]
  hasOlder: boolean
  hasNewer: boolean
}

/** how often, at most, the read marker goes to the server while messages keep coming */
const READ_MARKER_EVERY_MS = 500

/** the server's rule for message text, checked before sending (docs/protocol.md, "Message text") */
const MESSAGE_TEXT = new RegExp(MESSAGE_TEXT_PATTERN)

const shownOf = (message: ChatMessage, me: ChatUser | null, live = false): ShownMessage => ({
  key: message.clientId,
  author: message.author,
  text: message.text,
  at: message.at,
  seq: message.seq,
  state: 'sent',
  ...(live ? { live } : {}),
  ...(message.editedAt ? { editedAt: message.editedAt } : {}),
  ...(message.deleted ? { deleted: true } : {}),
  ...(message.replyTo ? { replyTo: message.replyTo } : {}),
  ...(message.reactions ? { reactions: message.reactions } : {}),
  ...(mentions(message, me) ? { mentionsMe: true } : {}),
})

/** Whether a message mentions this user: the server resolved its `@name`s and checked its `@room`. */
const mentions = (message: ChatMessage, me: ChatUser | null) =>
  me !== null &&
  message.author.id !== me.id &&
  (message.mentionsRoom === true || (message.mentions?.includes(me.id) ?? false))

/** Whether an edit's live frame newly mentions this user (docs/protocol.md, "Replies and mentions"). */
const newlyMentions = (update: MessageUpdate, me: ChatUser | null) =>
  me !== null &&
  update.change === 'edited' &&
  update.message.author.id !== me.id &&
  ((update.mentionsRoomAdded === true && !(update.mentionedBefore?.includes(me.id) ?? false)) ||
    (update.mentionsAdded?.includes(me.id) ?? false))

/** Changes the message with that seq, if the list holds it (a list is in seq order but for pending ones). */
function changeBySeq(list: ShownMessage[], seq: number, change: (item: ShownMessage) => ShownMessage): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i]!
    if (item.seq === seq) return void (list[i] = change(item))
    if (item.seq !== undefined && item.seq < seq) return
  }
}

/** Replaces the message with that seq, if the list holds it, by the message as the server has it now. */
const replaceBySeq = (list: ShownMessage[], message: ChatMessage, me: ChatUser | null) =>
  changeBySeq(list, message.seq, (item) => ({
    ...shownOf(message, me),
    ...(item.live ? { live: true } : {}),
  }))

/** This user's reaction added to a message's or taken from it, as the server would. */
function toggledReaction(item: ShownMessage, emoji: Reaction, on: boolean, me: ChatUser): ShownMessage {
  const others = (item.reactions ?? []).map((reaction) =>
    reaction.emoji === emoji
      ? { emoji, users: reaction.users.filter((user) => user.id !== me.id) }
      : reaction,
  )
  const withMine = on
    ? others.some((reaction) => reaction.emoji === emoji)
      ? others.map((reaction) =>
          reaction.emoji === emoji ? { emoji, users: [...reaction.users, me] } : reaction,
        )
      : [...others, { emoji, users: [me] }]
    : others
  return { ...item, reactions: withMine.filter((reaction) => reaction.users.length > 0) }
}

export function chatSocketUrl(location: Location = window.location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
}

/** GET /me: false when the session is over (401), undefined when the server could not say. */
async function sessionHolds(): Promise<boolean | undefined> {
  const result = await api.me()
  if (result.ok) return true
  return result.status === 401 ? false : undefined
}

export const useChatStore = defineStore('chat', () => {
  const notices = useNotices()
  const status = ref<ConnectionStatus>('connecting')
  const statusDetail = ref<string | undefined>()
  const me = ref<ChatUser | null>(null)
  /** the instance admin sees and manages every room */
  const admin = ref(false)
  /** the user's room list as the server keeps it: kind, title, role, unread count */
  const roomsByName = reactive(new Map<string, RoomSummary>())
  /** every room name, once the server has said (welcome); empty until then */
  const rooms = computed(() => [...roomsByName.keys()])
  const byTitle = (a: RoomSummary, b: RoomSummary) =>
    a.title.localeCompare(b.title) || a.room.localeCompare(b.room)
  /** the list in its two groups: rooms, and direct messages */
  const channels = computed(() =>
    [...roomsByName.values()].filter((room) => room.kind !== 'direct').sort(byTitle),
  )
  const directs = computed(() =>
    [...roomsByName.values()].filter((room) => room.kind === 'direct').sort(byTitle),
  )
  /** the page title's count: every unread message in the user's rooms */
  const unreadTotal = computed(() =>
    [...roomsByName.values()].reduce((total, room) => total + (room.unread ?? 0), 0),
  )
  const membersByRoom = reactive(new Map<string, RoomMemberEntry[]>())
  /**
   * Members known per room for `@name` completion, by id: from answers to look-ups by name (bounded, so a
   * public room of any size costs a few small answers) and from whole lists. Forgotten when the room's
   * membership changes as far as this page hears.
   */
  const mentionableByRoom = reactive(new Map<string, Map<string, ChatUser>>())
  /** per room, the name prefixes looked up (lower case), out or answered (in full: fewer than the most) */
  const prefixesAsked = new Map<string, Map<string, PrefixAsked>>()
  /** the earlier texts shown (a moderator's dialog), while it is open */
  const editHistory = ref<EditHistory | undefined>()
  /** an edit not saved, for the message list to open its editor on again */
  const editDraft = ref<EditDraft | undefined>()
  /** changes asked for, by ref, oldest first */
  const changesAsked = new Map<string, ChangeAsked>()
  /** the last `find_users` answer: who matches what was typed */
  const foundUsers = shallowRef<ChatUser[]>([])
  const current = ref(DEFAULT_ROOM)
  /** each room's list is shallow: items are replaced, never mutated, so thousands cost no deep proxies */
  const messagesByRoom = reactive(new Map<string, ShownMessage[]>())
  const onlineByRoom = reactive(new Map<string, ChatUser[]>())
  const typingByRoom = reactive(new Map<string, Map<string, ChatUser>>())
  const typingTimers = new Map<string, ReturnType<typeof setTimeout>>()
  /** rooms with messages before the oldest one shown, for the "Load older messages" button */
  const hasOlderByRoom = reactive(new Map<string, boolean>())
  /** a room's view around a message jumped to (from search or a reply), until "back to the present" */
  const windowByRoom = reactive(new Map<string, HistoryWindow>())
  /** the message of the live list to scroll to and highlight (it was there already when jumped to) */
  const highlighted = ref<number | undefined>()
  /** the message being answered in the composer */
  const replyingTo = ref<ShownMessage | undefined>()
  /** what is typed in each room's composer and not sent: a draft never follows the user to another room */
  const drafts = reactive(new Map<string, string>())
  const client = shallowRef<ChatClient | null>(null)
  /** by client id, in the order written; mirrored to sessionStorage (lib/unsent-messages.ts) */
  const unsent = new Map<string, UnsentMessage>()
  /** the room this user last said they are typing in */
  let typingIn: string | undefined
  /** a room this page asked to create: opened once the server says it exists */
  let creating: { room: string; done: (created: boolean) => void } | undefined
  /** direct rooms asked for, by the other user's id: opened once the server names the room */
  const openingDirect = new Map<string, { user: ChatUser; done: (room: string) => void }>()

  const historyWindow = computed(() => windowByRoom.get(current.value))
  const messages = computed(() => historyWindow.value?.messages ?? messagesByRoom.get(current.value) ?? [])
  const currentRoom = computed(() => roomsByName.get(current.value))
  const members = computed(() => membersByRoom.get(current.value) ?? [])
  /** the room's members as far as known, and everyone seen in it (writers, who is online): `@name` completion */
  const people = computed(() => {
    const byId = new Map<string, ChatUser>(mentionableByRoom.get(current.value))
    for (const message of messagesByRoom.get(current.value) ?? []) byId.set(message.author.id, message.author)
    for (const user of onlineByRoom.get(current.value) ?? []) byId.set(user.id, user)
    if (me.value) byId.delete(me.value.id)
    return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name))
  })
  const online = computed(() => onlineByRoom.get(current.value) ?? [])
  const hasOlder = computed(() => hasOlderByRoom.get(current.value) ?? false)
  const typing = computed(() =>
    [...(typingByRoom.get(current.value)?.values() ?? [])].filter((user) => user.id !== me.value?.id),
  )
  const draft = computed({
    get: () => drafts.get(current.value) ?? '',
    set: (text: string) =>
      void (text === '' ? drafts.delete(current.value) : drafts.set(current.value, text)),
  })

  const listOf = (room: string): ShownMessage[] => {
    if (!messagesByRoom.has(room)) messagesByRoom.set(room, shallowReactive([]))
    return messagesByRoom.get(room)!
  }

  function setRooms(list: RoomSummary[]): void {
    roomsByName.clear()
    for (const summary of list) roomsByName.set(summary.room, summary)
  }

  /** The newest message of the room shown is on screen: the server moves the read marker (all tabs follow). */
  /**
   * Sent at most once per `READ_MARKER_EVERY_MS` however fast messages come: each `read` counts against
   * the connection's frame budget, and a busy room must not crowd out the user's own sends.
   */
  let readTimer: ReturnType<typeof setTimeout> | undefined
  function markSeen(room: string): void {
    if (room !== current.value || readTimer !== undefined) return
    readTimer = setTimeout(() => {
      readTimer = undefined
      const shown = current.value
      const summary = roomsByName.get(shown)
      const seq = client.value?.lastSeq(shown)
      if (!summary?.role || seq === undefined) return
      if (summary.lastSeq < seq) summary.lastSeq = seq
      if (summary.unread) summary.unread = 0
      if (summary.mentions) summary.mentions = 0
      if (seq <= (summary.lastReadSeq ?? 0)) return
      summary.lastReadSeq = seq
      client.value?.request({ type: 'read', room: shown, seq })
    }, READ_MARKER_EVERY_MS)
  }

  /**
   * An edit newly mentioning this user, in a message still unread to them, in a room not shown: a mention
   * more, no unread message more. `messageSeq` undefined: the server has checked it is unread (`activity`).
   */
  function countEditMention(room: string, eventSeq: number, messageSeq?: number): void {
    if (room === current.value) return
    const summary = roomsByName.get(room)
    if (!summary?.role || eventSeq <= summary.lastSeq) return
    summary.lastSeq = eventSeq
    if (messageSeq !== undefined && messageSeq <= (summary.lastReadSeq ?? 0)) return
    summary.mentions = Math.min(UNREAD_COUNT_MAX, (summary.mentions ?? 0) + 1)
  }

  /** The room's membership changed as far as this page hears: what completion knew of it is asked again. */
  function forgetMentionable(room: string): void {
    mentionableByRoom.delete(room)
    prefixesAsked.delete(room)
  }
  function learnMembers(room: string, members: RoomMemberEntry[]): void {
    const known = mentionableByRoom.get(room) ?? new Map<string, ChatUser>()
    for (const member of members) known.set(member.user.id, member.user)
    mentionableByRoom.set(room, known)
  }

  /**
   * A change this page asked for, answered by an error: saved all the same (the server's words say so),
   * or not: why, and an edit's text is offered again in its editor.
   */
  function changeAnswered(change: ChangeAsked, message: string, stored: boolean | undefined): void {
    notices.show(message)
    if (!stored) return notSaved(change)
    // saved, only not announced: shown here as the server holds it; others get it from the database
    changeBySeq(listOf(change.room), change.seq, change.apply)
    const shown = windowByRoom.get(change.room)
    if (shown) changeBySeq(shown.messages, change.seq, change.apply)
  }
  function notSaved({ room, seq, text }: ChangeAsked): void {
    if (text !== undefined) editDraft.value = { room, seq, text }
  }

  /** `ref` undefined: the change could not go out, and the reader is told so */
  function rememberChange(ref: string | undefined, change: ChangeAsked): void {
    if (ref === undefined) {
      notices.show(CHANGE_NOT_SENT)
      return notSaved(change)
    }
    changesAsked.set(ref, change)
    for (const old of changesAsked.keys()) {
      if (changesAsked.size <= CHANGES_REMEMBERED) break
      changesAsked.delete(old)
    }
  }

  /** New messages of a room not shown: counted unread unless they are the user's own; mentions apart. */
  function countUnread(room: string, seq: number, authorId: string | undefined, mentioned: boolean): void {
    // the room shown is read as it comes (markSeen): nothing to count, nothing to redraw per message
    if (room === current.value) return
    const summary = roomsByName.get(room)
    if (!summary || seq <= summary.lastSeq) return
    summary.lastSeq = seq
    if (!summary.role || authorId === me.value?.id) return
    if (seq <= (summary.lastReadSeq ?? 0)) return
    summary.unread = Math.min(UNREAD_COUNT_MAX, (summary.unread ?? 0) + 1)
    if (mentioned) summary.mentions = Math.min(UNREAD_COUNT_MAX, (summary.mentions ?? 0) + 1)
  }

  const persistUnsent = () => me.value && saveUnsent(me.value.id, unsent.values())

  /** Replaces the user's own pending copy of a message, wherever it is shown. */
  function updateOwn(clientId: string, change: (item: ShownMessage) => ShownMessage): void {
    for (const list of messagesByRoom.values()) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i]!.key === clientId && list[i]!.state === 'pending') list[i] = change(list[i]!)
      }
    }
  }

  /** Stored messages take their place by seq; the user's pending ones stay last, in the order written. */
  function insertStored(list: ShownMessage[], message: ChatMessage, live: boolean): void {
    // the user's own unsent ones are all after the last stored one: only they are looked through
    for (let i = list.length - 1; i >= 0 && list[i]!.state !== 'sent'; i--) {
      if (list[i]!.key === message.clientId) {
        list.splice(i, 1)
        break
      }
    }
    let at = list.length
    while (at > 0 && (list[at - 1]!.state !== 'sent' || (list[at - 1]!.seq ?? 0) > message.seq)) at--
    list.splice(at, 0, shownOf(message, me.value, live))
  }

  function setTypingOf(room: string, user: ChatUser, isTyping: boolean): void {
    const key = `${room}\n${user.id}`
    clearTimeout(typingTimers.get(key))
    typingTimers.delete(key)
    if (!typingByRoom.has(room)) typingByRoom.set(room, new Map())
    const users = typingByRoom.get(room)!
    if (!isTyping) return void users.delete(user.id)
    users.set(user.id, user)
    // a typer who stops renewing (a closed tab, a lost connection) is no longer shown after a few seconds
    typingTimers.set(
      key,
      setTimeout(() => setTypingOf(room, user, false), TYPING_EXPIRES_MS),
    )
  }

  function showPending(room: string, clientId: string, text: string, at: string): void {
    if (me.value) listOf(room).push({ key: clientId, author: me.value, text, at, state: 'pending' })
  }

  /** Messages left unsent in this tab by this user (before a reload or a new login) go out now. */
  function resendSaved(chat: ChatClient, user: ChatUser): void {
    for (const saved of loadUnsent(user.id)) {
      if (unsent.has(saved.clientId)) continue
      unsent.set(saved.clientId, saved)
      showPending(saved.room, saved.clientId, saved.text, saved.at)
      chat.join(saved.room)
      chat.send(saved.room, saved.text, saved.clientId)
    }
  }

  function start(url = chatSocketUrl(), onEnded: (reason: string) => void = () => {}): void {
    client.value?.stop()
    let restored = false
    const chat = new ChatClient(
      { url, checkSession: sessionHolds },
      {
        status(next, detail) {
          status.value = next
          statusDetail.value = detail
          // a question out when the connection went is never answered: the dialog says so, and may ask again
          if (next !== 'open' && editHistory.value && editHistory.value.edits === undefined)
            editHistory.value = { ...editHistory.value, failed: EDIT_HISTORY_LOST }
          if (next === 'ended') onEnded(detail ?? 'Your session has ended')
        },
        welcome(user, list, isAdmin) {
          me.value = user
          admin.value = isAdmin
          // members may have come and gone meanwhile, and questions out may have been lost
          prefixesAsked.clear()
          setRooms(list)
          if (!restored) resendSaved(chat, user)
          restored = true
        },
        roomList(list) {
          setRooms(list)
        },
        roomChanged(summary, created) {
          const before = roomsByName.get(summary.room)
          // the count this page keeps stays: the summary's is as of the server's last look
          roomsByName.set(
            summary.room,
            before?.role && summary.role
              ? { ...summary, unread: before.unread, mentions: before.mentions }
              : summary,
          )
          if (created && creating?.room === summary.room) creating.done(true)
          forgetMentionable(summary.room)
        },
        roomRemoved(room) {
          roomsByName.delete(room)
          membersByRoom.delete(room)
          messagesByRoom.delete(room)
          forgetMentionable(room)
        },
        activity(room, seq, mentioned, edited) {
          if (edited) countEditMention(room, seq)
          else countUnread(room, seq, undefined, mentioned)
        },
        read(room, seq) {
          const summary = roomsByName.get(room)
          if (!summary) return
          summary.lastReadSeq = Math.max(summary.lastReadSeq ?? 0, seq)
          if (summary.lastReadSeq >= summary.lastSeq) Object.assign(summary, { unread: 0, mentions: 0 })
        },
        members(room, list, query) {
          if (query === undefined) {
            // the whole list (room settings, or after a change made there): completion starts from it
            membersByRoom.set(room, list)
            forgetMentionable(room)
            learnMembers(room, list)
            const answered: PrefixAsked = { asking: false, complete: true, at: Date.now() }
            return void prefixesAsked.set(room, new Map([['', answered]]))
          }
          learnMembers(room, list)
          const complete = list.length < MEMBER_MATCHES_MAX
          prefixesAsked.get(room)?.set(query.toLowerCase(), { asking: false, complete, at: Date.now() })
        },
        users(_query, users) {
          foundUsers.value = users
        },
        directRoom(room, userId) {
          const opening = openingDirect.get(userId)
          openingDirect.delete(userId)
          // the room's own announcement may come a moment later: listed now, so it can be opened at once
          if (opening && !roomsByName.has(room)) {
            const peer = opening.user
            roomsByName.set(room, {
              room,
              kind: 'direct',
              title: peer.name,
              topic: '',
              archived: false,
              lastSeq: 0,
              role: 'member',
              lastReadSeq: 0,
              unread: 0,
              peer,
            })
          }
          opening?.done(room)
        },
        messages(room, stored, announced) {
          const list = listOf(room)
          // live: announced as stored, or anything after the room's first page (a resume's pages included)
          const live = announced || list.some((item) => item.state === 'sent')
          for (const message of stored) {
            insertStored(list, message, live)
            unsent.delete(message.clientId)
            // history is at or below the count's last seq already: only what is new counts
            const mentioned = mentions(message, me.value)
            countUnread(room, message.seq, message.author.id, mentioned)
            if (live && mentioned) notifyMention(message)
          }
          persistUnsent()
          markSeen(room)
        },
        updated(room, update) {
          replaceBySeq(listOf(room), update.message, me.value)
          const shown = windowByRoom.get(room)
          if (shown) replaceBySeq(shown.messages, update.message, me.value)
          // only an edit's live frame says whom it newly mentions: a page read back notifies nobody again
          if (!newlyMentions(update, me.value)) return
          countEditMention(room, update.seq, update.message.seq)
          notifyMention(update.message)
        },
        editHistory(room, seq, edits) {
          const asked = editHistory.value
          if (asked?.room === room && asked.seq === seq)
            editHistory.value = { ...asked, edits, failed: undefined }
        },
        older(room, stored, more) {
          hasOlderByRoom.set(room, more)
          listOf(room).unshift(...stored.map((message) => shownOf(message, me.value)))
        },
        window(room, stored, direction, more) {
          const shown = windowByRoom.get(room)
          if (!shown) return
          const known = new Set(shown.messages.map((message) => message.seq))
          const fresh = stored
            .filter((message) => !known.has(message.seq))
            .map((message) => shownOf(message, me.value))
          if (direction === 'before') {
            shown.messages.unshift(...fresh)
            shown.hasOlder = more
          } else {
            shown.messages.push(...fresh)
            shown.hasNewer = more
          }
        },
        acked(clientId, stored) {
          unsent.delete(clientId)
          persistUnsent()
          updateOwn(clientId, (item) => ({ ...item, at: stored.at }))
        },
        joined(room, users) {
          onlineByRoom.set(room, users)
        },
        presence(room, users) {
          onlineByRoom.set(room, users)
        },
        typing(room, user, isTyping) {
          setTypingOf(room, user, isTyping)
        },
        error(code, message, ref, stored) {
          const change = ref === undefined ? undefined : changesAsked.get(ref)
          if (change) {
            changesAsked.delete(ref!)
            return changeAnswered(change, message, stored)
          }
          // the earlier texts asked for are not coming: the dialog says why, and may ask again
          const history = editHistory.value
          if (ref !== undefined && history?.ref === ref)
            return void (editHistory.value = { ...history, failed: message })
          // a look-up of members out may be what was refused (it names no ref): asked again when next typed
          forgetQuestionsOut()
          if (code === 'room_exists' && creating) return creating.done(false)
          // the page checks the address against the rooms it knows, and says so itself (ChatView)
          if (code === 'unknown_room') return
          // a refused send that was not stored goes again by itself: nothing for the reader to do
          if ((code === 'rate_limited' || code === 'unavailable') && ref !== undefined) return
          notices.show(message)
          if (!REFUSED_FOR_GOOD.has(code) || ref === undefined) return
          unsent.delete(ref)
          persistUnsent()
          updateOwn(ref, (item) => ({ ...item, state: 'failed' }))
        },
      },
    )
    client.value = chat
    chat.join(current.value)
    chat.connect()
  }

  function stop(): void {
    clearTimeout(readTimer)
    readTimer = undefined
    client.value?.stop()
    client.value = null
  }

  /** Shows a room; joined once, so opening it again (or clicking the current one) costs nothing. */
  function open(room: string): void {
    if (room === current.value && client.value?.isJoined(room)) return
    if (typingIn !== undefined && typingIn !== room) setTyping(false)
    current.value = room
    client.value?.join(room)
    markSeen(room)
  }

  /** A room that does not exist (a mistyped address): not joined again, nothing kept of it. */
  function forget(room: string): void {
    client.value?.forget(room)
    messagesByRoom.delete(room)
  }

  function loadOlder(): void {
    const shown = historyWindow.value
    const first = shown?.messages[0]?.seq
    if (shown && first !== undefined) return client.value?.windowPage(current.value, 'before', first)
    client.value?.loadOlder(current.value)
  }

  /** In the view around a message jumped to: the page after its last message. */
  function loadNewer(): void {
    const last = historyWindow.value?.messages.at(-1)?.seq
    if (last !== undefined) client.value?.windowPage(current.value, 'after', last)
  }

  /**
   * Shows message `seq` of the current room, highlighted: scrolled to when the live list holds it, else
   * a view of the pages around it replaces the list until `backToPresent`.
   */
  function jumpTo(seq: number): void {
    const room = current.value
    if ((messagesByRoom.get(room) ?? []).some((message) => message.seq === seq)) {
      windowByRoom.delete(room)
      highlighted.value = seq
      return
    }
    highlighted.value = seq
    windowByRoom.set(room, { target: seq, messages: shallowReactive([]), hasOlder: false, hasNewer: false })
    client.value?.around(room, seq)
  }

  function backToPresent(): void {
    windowByRoom.delete(current.value)
    highlighted.value = undefined
  }

  /** the ids of the people the text names as `@name`, for the server to check (at most the hints allowed) */
  const namedIn = (text: string) =>
    people.value
      .filter((user) => mentionsUser(text, user.name))
      .map((user) => user.id)
      .slice(0, MENTION_HINTS_MAX)

  function edit(seq: number, text: string): boolean {
    if (!MESSAGE_TEXT.test(text) || text.trim() === '') {
      notices.show('A message needs some text, and no control characters but newline and tab.')
      return false
    }
    const room = current.value
    const editedAt = new Date().toISOString()
    editDraft.value = undefined
    rememberChange(client.value?.edit(room, seq, text, namedIn(text)), {
      room,
      seq,
      apply: (item) => ({ ...item, text, editedAt }),
      text,
    })
    return true
  }

  function remove(seq: number): void {
    const room = current.value
    rememberChange(client.value?.remove(room, seq), {
      room,
      seq,
      apply: ({ reactions: _reactions, ...item }) => ({ ...item, text: '', deleted: true }),
    })
  }

  function react(seq: number, emoji: Reaction, on: boolean): void {
    const room = current.value
    const user = me.value
    rememberChange(client.value?.react(room, seq, emoji, on), {
      room,
      seq,
      apply: (item) => (user ? toggledReaction(item, emoji, on, user) : item),
    })
  }

  /** Opens the earlier texts of message `seq` of the room shown; they fill in when the server answers. */
  function showEditHistory(seq: number, room = current.value): void {
    const ref = client.value?.editHistory(room, seq)
    editHistory.value =
      ref === undefined
        ? { room, seq, edits: undefined, failed: EDIT_HISTORY_NOT_SENT }
        : { room, seq, edits: undefined, ref }
  }
  /** Asks again for the earlier texts the dialog failed to get. */
  function retryEditHistory(): void {
    const shown = editHistory.value
    if (shown) showEditHistory(shown.seq, shown.room)
  }
  /** The editor has opened on the draft offered: it is the editor's now. */
  function takeEditDraft(): void {
    editDraft.value = undefined
  }
  function closeEditHistory(): void {
    editHistory.value = undefined
  }

  /**
   * The writer typed `@` and `prefix`: the room's members whose name starts with it are asked for, unless
   * an answer already holds them all (a shorter prefix answered in full) or the question is out already.
   */
  let completionTimer: ReturnType<typeof setTimeout> | undefined
  function completeMembers(prefix: string): void {
    clearTimeout(completionTimer)
    const room = current.value
    const query = prefix.toLowerCase()
    const asked = prefixesAsked.get(room) ?? new Map<string, PrefixAsked>()
    prefixesAsked.set(room, asked)
    if (knownEnough(asked, query)) return
    // asked once the writer pauses: a name typed letter by letter costs one question, not one a letter
    completionTimer = setTimeout(() => {
      if (current.value !== room || knownEnough(asked, query)) return
      asked.set(query, { asking: true })
      // not connected: nothing went out, so nothing is waited for
      if (!client.value?.request({ type: 'members', room, query: prefix })) asked.delete(query)
    }, COMPLETION_PAUSE_MS)
  }
  /** Whether the members starting so are asked for, or known from a recent answer (of it or a shorter prefix, in full). */
  function knownEnough(asked: Map<string, PrefixAsked>, query: string): boolean {
    const fresh = Date.now() - MEMBER_ANSWER_LIFETIME_MS
    for (const [known, state] of asked) {
      if (!state.asking && state.at < fresh) asked.delete(known)
      else if (known === query || (!state.asking && state.complete && query.startsWith(known))) return true
    }
    return false
  }
  /** Look-ups of members still out are taken as lost: asked again when next typed. */
  function forgetQuestionsOut(): void {
    for (const asked of prefixesAsked.values())
      for (const [query, state] of asked) if (state.asking) asked.delete(query)
  }

  /** true once the server has created the room; false when the name is taken. */
  function createRoom(room: string, kind: 'public' | 'private' = 'public'): Promise<boolean> {
    creating?.done(false)
    return new Promise((resolve) => {
      const request = {
        room,
        done: (created: boolean) => {
          if (creating === request) creating = undefined
          resolve(created)
        },
      }
      creating = request
      client.value?.createRoom(room, kind)
    })
  }

  /** The direct room with that user (made on first use): its name, to open it. */
  function startDirect(user: ChatUser): Promise<string> {
    return new Promise((resolve) => {
      openingDirect.set(user.id, { user, done: resolve })
      client.value?.request({ type: 'direct', user: user.id })
    })
  }

  function loadMembers(room = current.value): void {
    client.value?.request({ type: 'members', room })
  }
  function findUsers(query: string): void {
    if (query.trim() === '') foundUsers.value = []
    else client.value?.request({ type: 'find_users', query: query.trim() })
  }
  function invite(userId: string, room = current.value): void {
    client.value?.request({ type: 'invite', room, user: userId })
  }
  function removeMember(userId: string, room = current.value): void {
    client.value?.request({ type: 'remove_member', room, user: userId })
  }
  function setRole(userId: string, role: RoomRole, room = current.value): void {
    client.value?.request({ type: 'set_role', room, user: userId, role })
  }
  function updateRoom(
    changes: { title?: string; topic?: string; archived?: boolean },
    room = current.value,
  ): void {
    client.value?.request({ type: 'update_room', room, ...changes })
  }
  function leaveRoom(room = current.value): void {
    client.value?.request({ type: 'leave_room', room })
  }

  function send(text: string): boolean {
    if (!client.value || !me.value || text.trim() === '') return false
    if (!MESSAGE_TEXT.test(text)) {
      notices.show('A message may hold no control characters but newline and tab.')
      return false
    }
    const room = current.value
    // the people the text names as @name: the server stores those mentions (and checks the names)
    const named = namedIn(text)
    const replyTo = replyingTo.value?.seq
    const clientId = client.value.send(room, text, undefined, {
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(named.length > 0 ? { mentions: named } : {}),
    })
    replyingTo.value = undefined
    const at = new Date().toISOString()
    unsent.set(clientId, { room, clientId, text, at })
    persistUnsent()
    showPending(room, clientId, text, at)
    return true
  }

  function setTyping(isTyping: boolean): void {
    const room = isTyping ? current.value : typingIn
    typingIn = isTyping ? room : undefined
    if (room !== undefined) client.value?.typing(room, isTyping)
  }

  return {
    status,
    statusDetail,
    me,
    admin,
    rooms,
    channels,
    directs,
    unreadTotal,
    currentRoom,
    members,
    foundUsers,
    current,
    messages,
    online,
    hasOlder,
    historyWindow,
    highlighted,
    replyingTo,
    people,
    typing,
    draft,
    start,
    stop,
    open,
    forget,
    loadOlder,
    loadNewer,
    jumpTo,
    backToPresent,
    edit,
    remove,
    react,
    editHistory,
    editDraft,
    retryEditHistory,
    takeEditDraft,
    showEditHistory,
    closeEditHistory,
    completeMembers,
    createRoom,
    startDirect,
    loadMembers,
    findUsers,
    invite,
    removeMember,
    setRole,
    updateRoom,
    leaveRoom,
    send,
    setTyping,
  }
})
