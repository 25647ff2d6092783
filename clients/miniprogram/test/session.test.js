'use strict'

// Login, storage and resuming a session, against the real gateway.

const test = require('node:test')
const assert = require('node:assert/strict')
const { startGatewayStack } = require('../test-helpers/gateway')
const { createFakeWx } = require('../test-helpers/fake-platform')
const { newClient, stored, mark, count, summary } = require('../test-helpers/fixtures')
const { createGatewayClient } = require('..')

let stack
test.before(async () => { stack = await startGatewayStack() })
test.after(async () => { if (stack) await stack.stop() })

test('login stores the tokens and a request carries the bearer token to the upstream', async () => {
  const { gw, wx } = newClient(stack, { user: 'alice' })
  const log = mark(stack, wx)

  const session = await gw.login()
  assert.equal(session.openid, 'alice.1')
  assert.ok(session.expiresAt > Date.now())
  const saved = stored(wx)
  assert.equal(typeof saved.accessToken, 'string')
  assert.equal(typeof saved.refreshToken, 'string')

  const res = await gw.request({ url: '/api/orders', method: 'GET', data: { page: 2 } })
  assert.equal(res.statusCode, 200)
  assert.equal(res.data.path, '/api/orders')
  assert.equal(res.data.url, '/api/orders?page=2')
  assert.equal(res.data.headers['x-openid'], 'alice.1', 'the gateway verified the token and named the user')
  assert.equal(res.data.headers['x-appid'], stack.appid)
  assert.equal(res.data.headers.authorization, undefined, 'the gateway does not forward the token')

  assert.deepEqual(summary(await log.lines()), ['POST /auth/login 200', 'GET /api/orders 200'])
})

test('session() shows who is logged in and never the tokens', async () => {
  const { gw } = newClient(stack, { user: 'viewer' })
  assert.equal(gw.session(), null)
  await gw.login()
  const view = gw.session()
  assert.deepEqual(Object.keys(view).sort(), ['expiresAt', 'openid'])
  assert.equal(view.openid, 'viewer.1')
})

test('a new client instance on the same storage resumes the session without logging in', async () => {
  const storage = new Map()
  const first = createFakeWx({ user: 'bob', storage })
  const a = createGatewayClient({ baseURL: stack.baseURL, appid: stack.appid, platform: first })
  await a.login()

  // A restarted mini-program: new wx object, new client, same storage.
  const second = createFakeWx({ user: 'bob-again', storage })
  const log = mark(stack, second)
  const b = createGatewayClient({ baseURL: stack.baseURL, appid: stack.appid, platform: second })
  assert.equal(b.session().openid, 'bob.1')
  const res = await b.request({ url: '/api/me' })
  assert.equal(res.statusCode, 200)
  assert.equal(res.data.headers['x-openid'], 'bob.1')

  const lines = await log.lines()
  assert.equal(count(lines, 'POST', '/auth/login'), 0, 'no second login')
  assert.equal(second.calls.filter((c) => c.api === 'login').length, 0, 'wx.login not called')
  assert.deepEqual(summary(lines), ['GET /api/me 200'])
})

test('a storageKey keeps two sessions apart', async () => {
  const storage = new Map()
  const wx = createFakeWx({ user: 'carol', storage })
  const one = createGatewayClient({ baseURL: stack.baseURL, platform: wx, storageKey: 'one' })
  const two = createGatewayClient({ baseURL: stack.baseURL, platform: wx, storageKey: 'two' })
  await one.login()
  await two.login()
  assert.deepEqual([...storage.keys()].sort(), ['one', 'two'])
  assert.notEqual(one.session().openid, two.session().openid)
})

test('nothing is written to the console during a whole flow (tokens are never logged)', async () => {
  const written = []
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace']
  const saved = methods.map((m) => console[m])
  methods.forEach((m) => { console[m] = (...args) => written.push(args) })
  try {
    const { gw } = newClient(stack, { user: 'quiet' })
    await gw.login()
    await gw.request({ url: '/api/x' })
    await gw.request({ url: '/api/status/503' })
    await gw.logout()
  } finally {
    methods.forEach((m, i) => { console[m] = saved[i] })
  }
  assert.deepEqual(written, [])
})
