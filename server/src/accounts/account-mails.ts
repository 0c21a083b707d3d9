import type { Mail } from '../mail/mailer.ts'

export function passwordResetMail(to: string, link: string, validMinutes: number): Mail {
  return {
    to,
    subject: 'Reset your Chat password',
    text: [
      'Someone, hopefully you, asked to reset the password of your Chat account.',
      '',
      `To choose a new password, open this link within ${validMinutes} minutes:`,
      link,
      '',
      'The link works once. Setting a new password logs you out everywhere.',
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ].join('\n'),
  }
}

export function verificationMail(to: string, link: string): Mail {
  return {
    to,
    subject: 'Confirm your email address for Chat',
    text: [
      'Welcome to Chat.',
      '',
      'To confirm this is your address, open this link within 24 hours:',
      link,
      '',
      'The link works once. If you did not create an account, ignore this mail.',
    ].join('\n'),
  }
}

/** To the owner of an address someone tried to register again: nothing was created. */
export function registrationAttemptMail(to: string, resetLink: string): Mail {
  return {
    to,
    subject: 'Someone tried to create a Chat account with your address',
    text: [
      'Someone, maybe you, tried to create a Chat account with this address. You already have one, so',
      'nothing was created and nothing about your account changed.',
      '',
      'If it was you and you forgot your password, set a new one here:',
      resetLink,
      '',
      'If it was not you, you can ignore this mail.',
    ].join('\n'),
  }
}

export function emailChangeMail(to: string, link: string): Mail {
  return {
    to,
    subject: 'Confirm your new email address for Chat',
    text: [
      'Someone, hopefully you, asked to use this address for their Chat account.',
      '',
      'To confirm it, open this link within 24 hours:',
      link,
      '',
      'If you did not ask for this, ignore this mail: nothing changes.',
    ].join('\n'),
  }
}

/** To the old address, once the new one is confirmed. */
export function emailChangedMail(to: string, newAddress: string): Mail {
  return {
    to,
    subject: 'Your Chat email address was changed',
    text: [
      `The email address of your Chat account is now ${newAddress}.`,
      '',
      'If you did not do this, tell an administrator at once: someone may have your password.',
    ].join('\n'),
  }
}
