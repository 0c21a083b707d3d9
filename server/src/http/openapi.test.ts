import { AccessTokenSchema, GreetingSchema, SessionsEndedSchema, UserSchema } from '@chat/contract'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { embeddedBackend } from '../test/backends.ts'
import { startTestApp, type TestApp } from '../test/test-app.ts'

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>>
}

/** The schema an answer declares, as the OpenAPI document shows it. */
function responseSchema(document: OpenApiDocument, method: string, path: string, status: string) {
  const content = document.paths[path]?.[method]?.responses[status]?.content as
    { 'application/json': { schema: { properties: Record<string, unknown> } } } | undefined
  return content?.['application/json'].schema
}

// The document is built from the routes' own response schemas, and those come from the shared contract:
// what the SPA reads is what the document says.
describe('the OpenAPI document', () => {
  let t: TestApp
  let document: OpenApiDocument
  beforeAll(async () => {
    t = await startTestApp(embeddedBackend)
    document = (await t.app.inject({ method: 'GET', url: '/api/docs/json' })).json()
  })
  afterAll(() => t?.close())

  const keysOf = (schema: { properties: Record<string, unknown> }) => Object.keys(schema.properties).sort()
  const dataKeys = (method: string, path: string, status: string) => {
    const schema = responseSchema(document, method, path, status)
    expect(schema, `${method} ${path} ${status}`).toBeDefined()
    return keysOf(schema!.properties.data as { properties: Record<string, unknown> })
  }

  it("declares GET /api's greeting", () => {
    expect(keysOf(responseSchema(document, 'get', '/api/', '200')!)).toEqual(keysOf(GreetingSchema))
  })

  it('declares the answers of login, register, me and logout with the contract schemas', () => {
    expect(dataKeys('post', '/api/v1.0/user/auth', '200')).toEqual(keysOf(AccessTokenSchema))
    expect(dataKeys('post', '/api/v1.0/user/register', '201')).toEqual(keysOf(AccessTokenSchema))
    expect(dataKeys('get', '/api/v1.0/user/me', '200')).toEqual(keysOf(UserSchema))
    expect(dataKeys('post', '/api/v1.0/user/logout', '200')).toEqual(keysOf(SessionsEndedSchema))
    expect(dataKeys('post', '/api/v1.0/user/logout-all', '200')).toEqual(keysOf(SessionsEndedSchema))
  })
})
