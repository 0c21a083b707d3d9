import type { RoomKind, RoomRole } from '@chat/contract'

/**
 * Who may do what in a room: decided here, from the role the connection holds in its cache, for every
 * protocol action (ASVS 5.0 V8.2.1 function-level and V8.2.2 data-specific authorization, V8.3.1
 * enforced at a trusted service layer). `admin`: the instance admin, who sees and manages every room.
 */
export interface Actor {
  role: RoomRole | undefined
  admin: boolean
}

export type RoomAction = 'invite' | 'remove' | 'set_role' | 'title' | 'topic' | 'archive' | 'leave'

const ALLOWED: Record<RoomAction, readonly RoomRole[]> = {
  invite: ['owner', 'moderator'],
  remove: ['owner', 'moderator'],
  set_role: ['owner'],
  title: ['owner'],
  topic: ['owner', 'moderator'],
  archive: ['owner'],
  leave: ['owner', 'moderator', 'member'],
}

/** A direct room has two members for good: no invitations, roles, renaming, archiving or leaving. */
export function mayManage(actor: Actor, kind: RoomKind, action: RoomAction): boolean {
  if (kind === 'direct') return false
  if (action === 'leave') return actor.role !== undefined
  return actor.admin || (actor.role !== undefined && ALLOWED[action].includes(actor.role))
}

/** A moderator removes members only; an owner anyone but themselves (they leave instead). */
export function mayRemove(actor: Actor, kind: RoomKind, target: RoomRole, self: boolean): boolean {
  if (self || !mayManage(actor, kind, 'remove')) return false
  return actor.admin || actor.role === 'owner' || target === 'member'
}

/** An owner changes others' roles, never their own (the last owner could leave the room with none). */
export function maySetRole(actor: Actor, kind: RoomKind, self: boolean): boolean {
  return !self && mayManage(actor, kind, 'set_role')
}

/** Reading and hearing a room: its members, anyone for a public room, the admin for any room. */
export function mayOpen(actor: Actor, kind: RoomKind): boolean {
  return actor.role !== undefined || kind === 'public' || actor.admin
}

/** Writing, typing: members only (joining a public room makes one), and the admin; never in an archive. */
export function mayWrite(actor: Actor): boolean {
  return actor.role !== undefined || actor.admin
}
