import type { FastifyBaseLogger } from 'fastify'
import nodemailer, { type Transporter } from 'nodemailer'

export interface Mail {
  to: string
  subject: string
  text: string
}

/** Sends mail; `send` rejects when it could not be handed over. */
export interface Mailer {
  send(mail: Mail): Promise<void>
  close(): void
}

/** Through an SMTP relay (SMTP_URL), by nodemailer. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter

  constructor(url: string, from: string) {
    // bounded, so a relay that stops answering cannot pile up sends for ever
    this.transport = nodemailer.createTransport(
      { url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 },
      { from },
    )
  }

  async send(mail: Mail): Promise<void> {
    await this.transport.sendMail(mail)
  }

  close(): void {
    this.transport.close()
  }
}

/**
 * No SMTP configured (the embedded default): each mail is written to the log in full, marked as not sent,
 * so whoever runs `npm start` can still follow a reset link.
 */
export class LogMailer implements Mailer {
  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly from: string,
  ) {}

  async send(mail: Mail): Promise<void> {
    this.log.info(
      { mail: { from: this.from, ...mail } },
      `mail NOT sent (no SMTP_URL is set), shown here instead:\nTo: ${mail.to}\nSubject: ${mail.subject}\n\n${mail.text}`,
    )
  }

  close(): void {}
}
