import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface CaughtMail {
  to: string
  from: string
  subject: string
  text: string
}

export interface MailCatcher {
  /** an SMTP_URL that reaches it */
  url: string
  mails: CaughtMail[]
  /** the first mail to `to` (past or future, not yet taken) whose subject matches, within `timeoutMs` */
  next(to: string, subject: RegExp, timeoutMs?: number): Promise<CaughtMail>
  close(): Promise<void>
}

/** A real SMTP server on a loopback port of its own (smtp-server), keeping every mail it is given. */
export async function startMailCatcher(): Promise<MailCatcher> {
  const mails: CaughtMail[] = []
  const taken = new Set<CaughtMail>()
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, done) {
      simpleParser(stream)
        .then((parsed) => {
          const addresses = (field: typeof parsed.to) =>
            (Array.isArray(field) ? field : field ? [field] : []).flatMap((list) =>
              list.value.map((entry) => entry.address ?? ''),
            )
          mails.push({
            to: addresses(parsed.to).join(', '),
            from: parsed.from?.text ?? '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
          })
          done()
        })
        .catch(done)
    },
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port))
  })
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async next(to, subject, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const mail = mails.find(
          (candidate) => !taken.has(candidate) && candidate.to === to && subject.test(candidate.subject),
        )
        if (mail) {
          taken.add(mail)
          return mail
        }
        if (Date.now() > deadline) {
          const seen = mails.map((m) => `${m.to}: ${m.subject}`).join('; ')
          throw new Error(`no mail to ${to} matching ${subject} within ${timeoutMs} ms; seen: ${seen}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
