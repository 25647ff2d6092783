'use strict'

// Requests made before or without a login.

const test = require('node:test')
const assert = require('node:assert/strict')
const { startGatewayStack } = require('../test-helpers/gateway')
const { newClient, mark, summary, count } = require('../test-helpers/fixtures')
const { GatewayAuthError } = require('..')

let stack
test.before(async () => { stack = await startGatewayStack() })
test.after(async () => { if (stack) await stack.stop() })

test('requests made before login() finishes wait for it and go out with its token', async () => {
  const { gw, wx } = newClient(stack, { autoLogin: false })
  const log = mark(stack, wx)
  const login = gw.login()
  const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => gw.request({ url: `/api/early/${i}` })))
  await login
  for (const res of answers) {
    assert.equal(res.statusCode, 200)
    assert.equal(res.data.headers['x-openid'], gw.session().openid)
  }
  const lines = summary(await log.lines())
  assert.equal(lines[0], 'POST /auth/login 200', lines.join('\n'))
  assert.equal(lines.length, 6)
  assert.ok(lines.slice(1).every((l) => /^GET \/api\/early\/\d 200$/.test(l)), lines.join('\n'))
})

test('with autoLogin: false and no session a request is refused before anything is sent', async () => {
  const { gw, wx } = newClient(stack, { autoLogin: false })
  const error = await gw.request({ url: '/api/x' }).then(() => null, (e) => e)
  assert.ok(error instanceof GatewayAuthError, String(error))
  assert.equal(error.code, 'login_required')
  assert.equal(wx.calls.length, 0)
})

test('without a session, concurrent requests share one automatic login', async () => {
  const { gw, wx } = newClient(stack)
  const log = mark(stack, wx)
  const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => gw.request({ url: `/api/auto/${i}` })))
  for (const res of answers) assert.equal(res.statusCode, 200)
  const lines = await log.lines()
  assert.equal(count(lines, 'POST', '/auth/login'), 1, summary(lines).join('\n'))
  assert.equal(summary(lines)[0], 'POST /auth/login 200')
  assert.equal(wx.calls.filter((c) => c.api === 'login').length, 1)
})

test('login() called while an automatic login is in flight joins it', async () => {
  const { gw, wx } = newClient(stack)
  const log = mark(stack, wx)
  const request = gw.request({ url: '/api/first' })
  const session = await gw.login()
  assert.equal((await request).data.headers['x-openid'], session.openid)
  assert.deepEqual(summary(await log.lines()), ['POST /auth/login 200', 'GET /api/first 200'])
})
