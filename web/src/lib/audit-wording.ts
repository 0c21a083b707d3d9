import type { AdminAction, AuditEventName } from '@chat/contract'

/** Each audit event as a person would say it (a Record, so a new event cannot be left unworded). */
export const auditEventWording: Record<AuditEventName, string> = {
  registered: 'Registered',
  login_succeeded: 'Logged in',
  login_failed: 'Login failed',
  login_throttled: 'Login refused: too many attempts',
  second_factor_failed: 'Wrong two-step login code',
  logged_out: 'Logged out',
  logged_out_everywhere: 'Logged out everywhere',
  session_ended: 'Ended a session',
  password_reset_requested: 'Asked for a password reset',
  password_reset: 'Reset the password',
  password_changed: 'Changed the password',
  two_factor_enabled: 'Turned on two-step login',
  two_factor_disabled: 'Turned off two-step login',
  recovery_codes_renewed: 'Made new recovery codes',
  account_deleted: 'Deleted their account',
  email_verified: 'Confirmed the email address',
  email_changed: 'Changed the email address',
  admin_disabled_user: 'Admin disabled a user',
  admin_enabled_user: 'Admin enabled a user',
  admin_promoted_user: 'Admin made a user an admin',
  admin_demoted_user: 'Admin removed admin rights',
  admin_logged_out_user: 'Admin logged a user out',
  admin_deleted_user: 'Admin deleted a user',
  admin_changed_settings: 'Admin changed the settings',
}

/** The admin console's actions: the button's words, and what the confirmation says will happen. */
export const adminActionWording: Record<AdminAction | 'delete', { verb: string; consequence: string }> = {
  disable: {
    verb: 'Disable',
    consequence: 'They are logged out everywhere and cannot log in until enabled.',
  },
  enable: { verb: 'Enable', consequence: 'They can log in again.' },
  promote: { verb: 'Make admin', consequence: 'They can use this console and change every account.' },
  demote: { verb: 'Remove admin', consequence: 'They can no longer use this console. They are logged out.' },
  logout: { verb: 'Log out', consequence: 'Every session of theirs ends; they can log in again.' },
  delete: {
    verb: 'Delete',
    consequence: 'Their account and email go; their messages stay, shown as from a deleted user.',
  },
}
