'use strict'

// Failures that are not about the token: returned as they are, and the session is kept.

const test = require('node:test')
const assert = require('node:assert/strict')
const { startGatewayStack } = require('../test-helpers/gateway')
const { newClient, stored, mark, summary } = require('../test-helpers/fixtures')
const { GatewayNetworkError, GatewayLoginError } = require('..')

let stack
test.before(async () => { stack = await startGatewayStack() })
test.after(async () => { if (stack) await stack.stop() })

test('a 5xx is returned as it is and keeps the session', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const before = stored(wx)
  const log = mark(stack, wx)
  const res = await gw.request({ url: '/api/status/503' })
  assert.equal(res.statusCode, 503)
  assert.equal(res.data.path, '/api/status/503', 'the upstream\'s own body')
  assert.deepEqual(summary(await log.lines()), ['GET /api/status/503 503'])
  assert.deepEqual(stored(wx), before)
})

test('a 429 is returned with its Retry-After and keeps the session', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const before = stored(wx)
  const log = mark(stack, wx)
  const res = await gw.request({ url: '/api/status/429' })
  assert.equal(res.statusCode, 429)
  assert.equal(res.header['retry-after'], '7')
  assert.deepEqual(summary(await log.lines()), ['GET /api/status/429 429'])
  assert.deepEqual(stored(wx), before)
})

test('wx.login failing rejects with a GatewayLoginError and sends nothing', async () => {
  const { gw, wx } = newClient(stack)
  wx.loginFailure = 'login:fail auth deny'
  const error = await gw.login().then(() => null, (e) => e)
  assert.ok(error instanceof GatewayLoginError, String(error))
  assert.equal(error.code, 'wx_login_failed')
  assert.equal(error.errMsg, 'login:fail auth deny')
  assert.equal(wx.calls.filter((c) => c.api === 'request').length, 0)
  assert.equal(gw.session(), null)
})

test.describe('gateway down', () => {
  let doomed
  test.before(async () => { doomed = await startGatewayStack() })
  test.after(async () => { if (doomed) await doomed.stop() })

  test('a request fails with a GatewayNetworkError and the session is kept, also when a refresh was due', async () => {
    let clock = Date.now()
    const { gw, wx } = newClient(doomed, { now: () => clock })
    await gw.login()
    const before = stored(wx)
    await doomed.stopGateway()

    const error = await gw.request({ url: '/api/x' }).then(() => null, (e) => e)
    assert.ok(error instanceof GatewayNetworkError, String(error))
    assert.match(error.errMsg, /^request:fail /)
    assert.deepEqual(stored(wx), before)

    clock += 60 * 60 * 1000 // expired: the refresh itself cannot reach the gateway
    const refreshError = await gw.request({ url: '/api/x' }).then(() => null, (e) => e)
    assert.ok(refreshError instanceof GatewayNetworkError, String(refreshError))
    const tokenCalls = wx.calls.filter((c) => c.api === 'request' && c.url.endsWith('/auth/token'))
    assert.equal(tokenCalls.length, 1, 'one refresh attempt, no retry loop')
    assert.deepEqual(stored(wx), before)
    assert.equal(wx.calls.filter((c) => c.api === 'login').length, 1, 'no login attempt')
    assert.equal(gw.session().openid, before.openid)
  })
})
