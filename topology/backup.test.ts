import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createTestDatabase,
  createTestRedisPrefix,
  openSocket,
  spawnServer,
  TEST_REDIS_URL,
  type ServerProcess,
} from '@chat/server/testing'

const root = path.resolve(import.meta.dirname, '..')
const run = promisify(execFile)

/** The script `make backup` and `make restore` call, here against a local database by URL. */
const backupScript = (args: string[], env: Record<string, string>) =>
  run(path.join(root, 'scripts', 'db-backup.sh'), args, { cwd: root, env: { ...process.env, ...env } })

describe('make backup, then make restore into an empty database (scripts/db-backup.sh)', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  async function serve(databaseUrl: string, extra: Record<string, string> = {}) {
    const redis = createTestRedisPrefix()
    const server: ServerProcess = spawnServer({
      DATABASE_URL: databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redis.prefix,
      API_MODE: 'production',
      API_ADMIN_EMAIL: 'admin@example.com',
      API_ADMIN_PASSWORD: 'backup-admin-password',
      SESSION_COOKIE_SECURE: 'false',
      HOST: '127.0.0.1',
      ...extra,
    })
    cleanups.push(async () => {
      await server.stop()
      await redis.drop()
    })
    return server.ready()
  }
  const post = (url: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const chat = async (api: string, token: string) => {
    const socket = await openSocket(`${api.replace(/^http/, 'ws').replace(/\/api$/, '')}/ws`, [
      'chat.v1',
      `bearer.${token}`,
    ])
    cleanups.push(() => socket.socket.terminate())
    await socket.nextOfType('welcome')
    return socket
  }
  const history = async (api: string, token: string, room: string) => {
    const socket = await chat(api, token)
    socket.socket.send(JSON.stringify({ type: 'join', room, since: 0 }))
    return (
      await socket.nextOfType<{ messages: { text: string; seq: number; clientId: string }[] }>('history')
    ).messages
  }

  it('round-trips users, rooms and messages: the restored database serves the same data', async () => {
    const original = await createTestDatabase()
    cleanups.push(original.drop)
    const api = await serve(original.url)
    const user = {
      email: `backup-${crypto.randomUUID().slice(0, 8)}@example.com`,
      password: 'a-good-password',
    }
    const registered = await post(`${api}/v1.0/user/register`, user)
    expect(registered.status).toBe(201)
    const token = ((await registered.json()) as { data: { access_token: string } }).data.access_token
    const socket = await chat(api, token)
    const room = `backup-${crypto.randomUUID().slice(0, 8)}`
    socket.socket.send(JSON.stringify({ type: 'create_room', room }))
    socket.socket.send(JSON.stringify({ type: 'join', room }))
    await socket.nextOfType('joined')
    const texts = ['first', 'second, with ünïcødé', 'third\nwith a newline']
    for (const [index, text] of texts.entries()) {
      socket.socket.send(JSON.stringify({ type: 'send', room, clientId: `m${index}`, text }))
      await socket.nextOfType('ack', (ack: { clientId: string }) => ack.clientId === `m${index}`)
    }
    const before = await history(api, token, room)
    expect(before.map((message) => message.text)).toEqual(texts)

    const backupDir = mkdtempSync(path.join(tmpdir(), 'backups-'))
    cleanups.push(() => rmSync(backupDir, { recursive: true, force: true }))
    const { stdout } = await backupScript(['backup'], { DATABASE_URL: original.url, BACKUP_DIR: backupDir })
    const file = stdout.trim()
    expect(path.basename(file)).toMatch(/^chat-\d{8}T\d{6}Z\.dump$/)
    expect(readdirSync(backupDir)).toEqual([path.basename(file)])

    const restored = await createTestDatabase()
    cleanups.push(restored.drop)
    await backupScript(['restore', file], { DATABASE_URL: restored.url })
    // no migration to apply: the dump carried the schema and its migration table
    const restoredApi = await serve(restored.url, { MIGRATE_ON_START: 'false', APP_ROLE: 'all' })
    expect((await fetch(`${restoredApi}/health/ready`)).status).toBe(200)
    const login = await post(`${restoredApi}/v1.0/user/auth`, user)
    expect(login.status).toBe(200)
    const restoredToken = ((await login.json()) as { data: { access_token: string } }).data.access_token
    expect(await history(restoredApi, restoredToken, room)).toEqual(before)

    // a database with tables is refused, and keeps what it has
    const refused = backupScript(['restore', file], { DATABASE_URL: restored.url })
    await expect(refused).rejects.toMatchObject({
      stderr: expect.stringMatching(/not empty .*restore only into an empty one/),
    })
    expect(await history(restoredApi, restoredToken, room)).toEqual(before)
  })
})
