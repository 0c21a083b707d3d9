import { Type, type Static } from 'typebox'

/** The WebSocket subprotocol of the JSON chat; a connection without a subprotocol speaks the original echo. */
export const CHAT_SUBPROTOCOL = 'chat.v1'
/** A token offered as a subprotocol, `bearer.<token>`, next to `chat.v1`; the server never echoes it back. */
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.'
export const WS_PATH = '/ws'

/** Close codes (RFC 6455 §7.4; 4000-4999 are ours). docs/protocol.md explains each. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  /** logout, "log out everywhere", expiry or revocation: go back to the login page */
  sessionEnded: 4001,
  /** too many open connections for this user */
  tooManyConnections: 4008,
} as const

export const ROOM_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$'
export const MESSAGE_MAX_CHARS = 4000
export const CLIENT_ID_MAX_CHARS = 64
export const DEFAULT_ROOM = 'general'
/**
 * The most messages one answer holds (`join` or `history`): a client that missed more pages on with
 * `history`. Bounded so one request cannot make the server read and send a whole room (ASVS 5.0 V2.4.1
 * anti-automation, V4.4 WebSocket resource limits).
 */
export const HISTORY_PAGE_MAX = 500
/**
 * Message text: any character but the C0/C1 controls and DEL, except newline and tab (ASVS 5.0 V1.2 / V2.2.1
 * input validation). PostgreSQL cannot store NUL in text, and the other controls only hide or spoof text.
 */
export const MESSAGE_TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$'

/** The reactions a message can get: a small fixed set, so a reaction is one of a few known strings. */
export const REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢'] as const
export type Reaction = (typeof REACTIONS)[number]
/** A send names at most this many users it means to mention (the composer's autocomplete picks). */
export const MENTION_HINTS_MAX = 20
/** `@room` mentions everyone in the room; only its owners and moderators may (others' is plain text). */
export const ROOM_MENTION = '@room'
/** The most characters of the replied-to message quoted in a reply. */
export const REPLY_EXCERPT_CHARS = 200

/** A typer says `typing: true` again at least this often while still typing… */
export const TYPING_RENEW_MS = 3_000
/** …and others stop showing "typing…" when this long has passed without a renewal (a tab closed, say). */
export const TYPING_EXPIRES_MS = 6_000

/** A room's display title and topic: what people see, apart from the stable name in the URL. */
export const ROOM_TITLE_MAX_CHARS = 64
export const ROOM_TOPIC_MAX_CHARS = 250
/** Direct rooms are named `dm-<lower user id>-<higher user id>`; no other room may take the prefix. */
export const DIRECT_ROOM_PREFIX = 'dm-'
/** At most this many users answer one `find_users`. */
export const FIND_USERS_MAX = 10
/**
 * At most this many members answer a `members` request with a `query` (the composer's `@name` completion),
 * so completing a name in a public room of any size costs one bounded answer (ASVS 5.0 V4.4).
 */
export const MEMBER_MATCHES_MAX = 20

/** public: listed to all, anyone may join; private: members only, by invitation; direct: two users. */
export type RoomKind = 'public' | 'private' | 'direct'
/** owner: everything; moderator: invite, remove members, topic; member: read and write. */
export type RoomRole = 'owner' | 'moderator' | 'member'

const RoomName = Type.String({ pattern: ROOM_NAME_PATTERN })
const UserId = Type.String({ pattern: '^[1-9][0-9]{0,18}$' })
const RoleSchema = Type.Union([Type.Literal('owner'), Type.Literal('moderator'), Type.Literal('member')])
/** one line of visible text, not blank */
const Title = Type.String({
  minLength: 1,
  maxLength: ROOM_TITLE_MAX_CHARS,
  pattern: '^[^\\u0000-\\u001F\\u007F-\\u009F]*\\S[^\\u0000-\\u001F\\u007F-\\u009F]*$',
})
const Topic = Type.String({
  maxLength: ROOM_TOPIC_MAX_CHARS,
  pattern: '^[^\\u0000-\\u001F\\u007F-\\u009F]*$',
})
const MessageText = Type.String({ minLength: 1, maxLength: MESSAGE_MAX_CHARS, pattern: MESSAGE_TEXT_PATTERN })
const Seq = Type.Integer({ minimum: 1 })
/**
 * ids of users the text names as `@name` (the composer's picks); the server keeps those it finds. At most
 * 18 digits, no leading zero: always below PostgreSQL's bigint maximum (19 digits), so no id a client sends
 * fails the query as a server error.
 */
const MentionHints = Type.Optional(
  Type.Array(Type.String({ pattern: '^[1-9][0-9]{0,17}$' }), { maxItems: MENTION_HINTS_MAX }),
)
/**
 * The client's own name for a change it asks for (`edit`, `delete`, `react`): an error answering it carries
 * it back with `stored`, so the client knows whether the change was saved.
 */
const ChangeRef = Type.Optional(Type.String({ minLength: 1, maxLength: CLIENT_ID_MAX_CHARS }))

/** What a client sends. */
export const ClientMessageSchemas = {
  rooms: Type.Object({ type: Type.Literal('rooms') }),
  /** `kind` public (the default, as chat.v1 had it) or private; the creator becomes its owner */
  create_room: Type.Object({
    type: Type.Literal('create_room'),
    room: RoomName,
    kind: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('private')])),
    title: Type.Optional(Title),
    topic: Type.Optional(Topic),
  }),
  /** the direct room with that user, created on first use: answered `direct_room` */
  direct: Type.Object({ type: Type.Literal('direct'), user: UserId }),
  /** this user has seen the room up to `seq` (the newest message is on screen); never moves back */
  read: Type.Object({ type: Type.Literal('read'), room: RoomName, seq: Type.Integer({ minimum: 0 }) }),
  /**
   * the room's members; with `query`, only those whose display name starts with it (any case), at most
   * `MEMBER_MATCHES_MAX`: what `@name` completion offers
   */
  members: Type.Object({
    type: Type.Literal('members'),
    room: RoomName,
    query: Type.Optional(Type.String({ maxLength: 64 })),
  }),
  invite: Type.Object({ type: Type.Literal('invite'), room: RoomName, user: UserId }),
  remove_member: Type.Object({ type: Type.Literal('remove_member'), room: RoomName, user: UserId }),
  set_role: Type.Object({ type: Type.Literal('set_role'), room: RoomName, user: UserId, role: RoleSchema }),
  /** any of title, topic, archived (an archived room is read-only) */
  update_room: Type.Object({
    type: Type.Literal('update_room'),
    room: RoomName,
    title: Type.Optional(Title),
    topic: Type.Optional(Topic),
    archived: Type.Optional(Type.Boolean()),
  }),
  /** gives up membership (`leave` only stops listening); an owner's role passes on, see docs/protocol.md */
  leave_room: Type.Object({ type: Type.Literal('leave_room'), room: RoomName }),
  /** users whose display name starts with `query` (to invite or write to them by name) */
  find_users: Type.Object({
    type: Type.Literal('find_users'),
    query: Type.String({ minLength: 1, maxLength: 64 }),
  }),
  join: Type.Object({
    type: Type.Literal('join'),
    room: RoomName,
    /** the highest `seq` this client has of the room: the server sends exactly what came after */
    since: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
  leave: Type.Object({ type: Type.Literal('leave'), room: RoomName }),
  send: Type.Object({
    type: Type.Literal('send'),
    room: RoomName,
    clientId: Type.String({ minLength: 1, maxLength: CLIENT_ID_MAX_CHARS }),
    text: MessageText,
    /** the `seq` of the message of this room it answers */
    replyTo: Type.Optional(Seq),
    mentions: MentionHints,
  }),
  /** the author's new text for their message `seq`; who it mentions is worked out again from it */
  edit: Type.Object({
    type: Type.Literal('edit'),
    room: RoomName,
    seq: Seq,
    text: MessageText,
    mentions: MentionHints,
    ref: ChangeRef,
  }),
  /** the author, the room's owners and moderators, and the instance admin delete a message */
  delete: Type.Object({ type: Type.Literal('delete'), room: RoomName, seq: Seq, ref: ChangeRef }),
  /** `on`: add this user's reaction, or take it back */
  react: Type.Object({
    type: Type.Literal('react'),
    room: RoomName,
    seq: Seq,
    emoji: Type.Enum(REACTIONS),
    on: Type.Boolean(),
    ref: ChangeRef,
  }),
  /** a message's earlier texts: for the room's owners and moderators and the instance admin */
  /** `ref`: named by an error answering it, so the client knows which question failed */
  edit_history: Type.Object({ type: Type.Literal('edit_history'), room: RoomName, seq: Seq, ref: ChangeRef }),
  /** one page of a joined room's messages: before `before` (the newest ones below it) or after `after` */
  history: Type.Object({
    type: Type.Literal('history'),
    room: RoomName,
    before: Type.Optional(Type.Integer({ minimum: 1 })),
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: HISTORY_PAGE_MAX })),
  }),
  typing: Type.Object({ type: Type.Literal('typing'), room: RoomName, typing: Type.Boolean() }),
} as const

export type ClientMessageType = keyof typeof ClientMessageSchemas
export type ClientMessage = {
  [K in ClientMessageType]: Static<(typeof ClientMessageSchemas)[K]>
}[ClientMessageType]

/** Someone in the chat, as others see them: never their email. */
export interface ChatUser {
  id: string
  /** their display name ("Deleted user" once the account is deleted) */
  name: string
  /** whether they have confirmed their email address */
  verified: boolean
}

export interface ChatMessage {
  room: string
  /** position in the room: 1, 2, 3… a gap only where a send was abandoned */
  seq: number
  id: string
  author: ChatUser
  clientId: string
  /** empty once deleted */
  text: string
  /** ISO 8601, the server's clock */
  at: string
  /** when the author last edited it (ISO 8601); absent when never edited */
  editedAt?: string
  /** deleted: shown as a tombstone, its text gone from the server */
  deleted?: true
  /** the message of the same room it answers, quoted */
  replyTo?: ReplyPreview
  /** absent when none; each emoji once, its users in the order they reacted */
  reactions?: MessageReaction[]
  /** ids of the users it mentions; absent when none */
  mentions?: string[]
  /** an `@room` by an owner or moderator: everyone in the room is mentioned */
  mentionsRoom?: true
}

export interface ReplyPreview {
  seq: number
  author: ChatUser
  /** the first `REPLY_EXCERPT_CHARS` characters; empty when that message is deleted */
  text: string
  deleted?: true
}

export interface MessageReaction {
  emoji: Reaction
  users: ChatUser[]
}

/**
 * An event of the room's log about an earlier message: it has its own `seq` (delivered once, in order,
 * resumed like messages) and carries the whole message as it stands after the change (or later, when
 * read back on a resume), so applying one is replacing that message: idempotent.
 */
export interface MessageUpdate {
  room: string
  seq: number
  change: 'edited' | 'deleted' | 'reactions'
  /** who made the change (a moderator may delete another's message) */
  by: ChatUser
  message: ChatMessage
  /**
   * Only on the live frame of an edit, never on one read back: the users it mentions by name that the
   * message did not mention before (absent when none, and when it mentions the room before or after)…
   */
  mentionsAdded?: string[]
  /** …and whether it added an `@room` that counts (by an owner or moderator): everyone is newly mentioned */
  mentionsRoomAdded?: true
  /**
   * …and, with `mentionsRoomAdded`, whom the message mentioned before the edit (absent when nobody): they
   * were told already, so the `@room` is no news to them
   */
  mentionedBefore?: string[]
}

/** One earlier text of a message, as a moderator reads it. */
export interface MessageEdit {
  /** the text before this edit */
  text: string
  /** when it was replaced (ISO 8601) */
  at: string
}

/**
 * A room as one user sees it in their room list. `role` only for a member; `unread` (messages by others
 * after `lastReadSeq`, at most `UNREAD_COUNT_MAX`) only for a member. A direct room's `title` is the other
 * person's name, and `peer` that person.
 */
export interface RoomSummary {
  room: string
  kind: RoomKind
  title: string
  topic: string
  archived: boolean
  lastSeq: number
  role?: RoomRole
  lastReadSeq?: number
  unread?: number
  /** of the unread, those that mention this user by name or the whole room (`@room`) */
  mentions?: number
  peer?: ChatUser
}

/** Unread counts stop at this (shown "99+"), so a long-unread room costs a bounded count. */
export const UNREAD_COUNT_MAX = 100

export interface RoomMemberEntry {
  user: ChatUser
  role: RoomRole
  /** ISO 8601 */
  joinedAt: string
}

/** What the server sends. */
export type ServerMessage =
  /**
   * `server`: which ws process this is (for operators and tests; clients need not care).
   * `messagesPerSecond`: the connection's frame budget (bursts of twice that), so a client can pace its sends.
   */
  | {
      type: 'welcome'
      user: ChatUser
      /** names of the rooms this user may open (chat.v1's list) */
      rooms: string[]
      /**
       * the same rooms with kind, title, role and unread count: one query. Absent from servers older than
       * rooms with members, as `admin`: a client then takes every room as public
       */
      roomList?: RoomSummary[]
      /** the instance admin sees and manages every room */
      admin?: boolean
      heartbeatMs: number
      server: string
      /** absent from servers older than it: a client then assumes `WS_MESSAGES_PER_SECOND`'s default, 10 */
      messagesPerSecond?: number
    }
  | { type: 'rooms'; rooms: string[]; roomList: RoomSummary[] }
  /** a public room was created (to everyone), or a private one by this user; `summary` as this user sees it */
  | { type: 'room_created'; room: string; summary: RoomSummary }
  /** a room entered this user's list (invited, a new direct room) or changed (title, topic, role, archived) */
  | { type: 'room_updated'; summary: RoomSummary }
  /** the room left this user's list (removed, left): its frames stop */
  | { type: 'room_removed'; room: string }
  /**
   * a new message in a room of this user's list that this connection has not joined; with `change:
   * 'edited'`, no new message but an edit (event `seq`) that newly mentions this user in a message still
   * unread to them: count a mention, not an unread message
   */
  | { type: 'activity'; room: string; seq: number; mentioned?: true; change?: 'edited' }
  /** this user's read marker moved (on any of their connections) */
  | { type: 'read'; room: string; seq: number }
  /** `query`: that of the request answered, when it had one (then at most `MEMBER_MATCHES_MAX` members) */
  | { type: 'members'; room: string; members: RoomMemberEntry[]; query?: string }
  | { type: 'users'; query: string; users: ChatUser[] }
  | { type: 'direct_room'; room: string; user: string }
  /**
   * At most `HISTORY_PAGE_MAX` messages, oldest first. `done`: no message after the last one (else page on
   * with `history` `after`); `hasOlder`: messages exist before the first one (page back with `before`).
   * `before`/`after`: those of the `history` request this answers; neither on the answer to a `join`.
   */
  | {
      type: 'history'
      room: string
      messages: ChatMessage[]
      done: boolean
      hasOlder: boolean
      before?: number
      after?: number
      /**
       * edits, deletions and reaction changes with a `seq` in this page's range (pages read forward, and
       * the answer to a `join` with `since`), oldest first; absent when none. Older clients ignore them.
       */
      updates?: MessageUpdate[]
    }
  | { type: 'joined'; room: string; online: ChatUser[] }
  | { type: 'left'; room: string }
  | ({ type: 'message' } & ChatMessage)
  | { type: 'ack'; room: string; clientId: string; id: string; seq: number; at: string }
  | ({ type: 'message_updated' } & MessageUpdate)
  | { type: 'edit_history'; room: string; seq: number; edits: MessageEdit[] }
  | { type: 'presence'; room: string; online: ChatUser[] }
  | { type: 'typing'; room: string; user: ChatUser; typing: boolean }
  /**
   * `ref`: the `clientId` of the `send` answered, or the `ref` of the `edit`, `delete` or `react`, when there
   * is one; `stored` then says whether that message or change is stored (true: it is safe (a send was
   * acknowledged), only its announcement failed: do not do it again; false: it was not, see the code).
   */
  | { type: 'error'; code: ChatErrorCode; message: string; ref?: string; stored?: boolean }

export type ChatErrorCode =
  | 'malformed_json'
  | 'unknown_type'
  | 'invalid_message'
  | 'binary_unsupported'
  | 'unknown_room'
  | 'room_exists'
  | 'not_joined'
  | 'not_member'
  | 'forbidden'
  | 'archived'
  | 'unknown_user'
  | 'rate_limited'
  | 'unavailable'
  | 'unknown_message'
  | 'forbidden'
  | 'archived'
