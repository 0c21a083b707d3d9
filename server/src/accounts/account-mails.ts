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
