import type { Migration } from 'kysely'
import * as createUsers from './0001-create-users.ts'
import * as createChat from './0002-create-chat.ts'
import * as addUserDisabled from './0003-add-user-disabled.ts'
import * as createSessions from './0004-create-sessions.ts'
import * as createAccountTokens from './0007-create-account-tokens.ts'
import * as createTwoFactor from './0008-create-two-factor.ts'
import * as createAuditLogAndSettings from './0009-create-audit-log-and-settings.ts'
import * as addUserDeleted from './0010-add-user-deleted.ts'
import * as addDisplayName from './0011-add-display-name.ts'
import * as confirmExistingUsers from './0012-confirm-existing-users.ts'
import * as createRoomMembers from './0013-create-room-members.ts'
import * as messageLogEvents from './0014-message-log-events.ts'
import * as createMessageSearch from './0015-create-message-search.ts'
import * as indexUnreadCounts from './0016-index-unread-counts.ts'

/** Every migration, in order. Names sort as they apply; never rename one that has shipped. */
export const migrations: Record<string, Migration> = {
  '0001-create-users': createUsers,
  '0002-create-chat': createChat,
  '0003-add-user-disabled': addUserDisabled,
  '0004-create-sessions': createSessions,
  '0007-create-account-tokens': createAccountTokens,
  '0008-create-two-factor': createTwoFactor,
  '0009-create-audit-log-and-settings': createAuditLogAndSettings,
  '0010-add-user-deleted': addUserDeleted,
  '0011-add-display-name': addDisplayName,
  '0012-confirm-existing-users': confirmExistingUsers,
  '0013-create-room-members': createRoomMembers,
  '0014-message-log-events': messageLogEvents,
  '0015-create-message-search': createMessageSearch,
  '0016-index-unread-counts': indexUnreadCounts,
}
