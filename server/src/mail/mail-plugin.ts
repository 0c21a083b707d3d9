import fp from 'fastify-plugin'
import type { Config } from '../config/config.ts'
import { LogMailer, SmtpMailer, type Mail, type Mailer } from './mailer.ts'

declare module 'fastify' {
  interface FastifyInstance {
    outbox: Outbox
  }
}

/**
 * Mail leaves in the background: an answer never waits for the relay, so its timing cannot tell whether
 * a mail went out (whether an account exists). A failure is logged once, with what the mail was about.
 */
export class Outbox {
  constructor(
    private readonly mailer: Mailer,
    private readonly log: { error: (context: object, message: string) => void },
  ) {}

  post(mail: Mail, context: Record<string, unknown>): void {
    this.mailer.send(mail).catch((error: unknown) => {
      this.log.error({ err: error, ...context, subject: mail.subject }, 'sending mail failed')
    })
  }
}

export default fp(
  async (app, { config }: { config: Config }) => {
    const { smtpUrl, from } = config.mail
    const mailer = smtpUrl ? new SmtpMailer(smtpUrl, from) : new LogMailer(app.log, from)
    app.log.info(
      smtpUrl ? `mail: SMTP at ${new URL(smtpUrl).host}` : 'mail: written to the log (no SMTP_URL)',
    )
    app.addHook('onClose', async () => mailer.close())
    app.decorate('outbox', new Outbox(mailer, app.log))
  },
  { name: 'mail' },
)
