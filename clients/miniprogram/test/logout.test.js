'use strict'

// Logout: the server session ends, and nothing of it survives on the device, whatever happens.

const test = require('node:test')
const assert = require('node:assert/strict')
const { startGatewayStack } = require('../test-helpers/gateway')
const { newClient, stored, mark, summary, direct } = require('../test-helpers/fixtures')
const { GatewayAuthError } = require('..')

let stack
test.before(async () => { stack = await startGatewayStack() })
test.after(async () => { if (stack) await stack.stop() })

test('logout ends the session at the gateway and clears storage', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const { accessToken, refreshToken } = stored(wx)
  const log = mark(stack, wx)
  assert.deepEqual(await gw.logout(), { revoked: true })
  assert.deepEqual(summary(await log.lines()), ['POST /auth/logout 204'])
  assert.equal(stored(wx), null)
  assert.equal(gw.session(), null)
  assert.equal((await direct(stack, 'GET', '/api/x', { token: accessToken })).statusCode, 401, 'access token dead')
  const refresh = await direct(stack, 'POST', '/auth/token', { json: { grant_type: 'refresh_token', refresh_token: refreshToken } })
  assert.equal(refresh.statusCode, 400, 'refresh token dead')
})

test('logout clears storage even when the gateway cannot be reached', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const request = wx.request
  wx.request = (options) => request({ ...options, url: options.url.replace(stack.baseURL, 'http://127.0.0.1:1') })
  const result = await gw.logout()
  wx.request = request
  assert.deepEqual(result, { revoked: false })
  assert.equal(stored(wx), null)
  assert.equal(gw.session(), null)
})

test('logout with an expired access token revokes the refresh token instead', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const { accessToken, refreshToken } = stored(wx)
  // The gateway must refuse the access token while the refresh token lives: a copy with a
  // changed signature stands for an expired one (both are 401 invalid_token).
  const session = stored(wx)
  const i = accessToken.length - 10
  session.accessToken = accessToken.slice(0, i) + (accessToken[i] === 'A' ? 'Q' : 'A') + accessToken.slice(i + 1)
  wx.setStorageSync('gateway.session', session)
  const log = mark(stack, wx)
  assert.deepEqual(await gw.logout(), { revoked: true })
  assert.deepEqual(summary(await log.lines()), ['POST /auth/logout 401', 'POST /auth/revoke 200'])
  const refresh = await direct(stack, 'POST', '/auth/token', { json: { grant_type: 'refresh_token', refresh_token: refreshToken } })
  assert.equal(refresh.statusCode, 400, 'refresh token dead')
  assert.equal(stored(wx), null)
})

test('a refresh in flight during logout does not bring the session back', async () => {
  let clock = Date.now()
  const { gw, wx } = newClient(stack, { now: () => clock, autoLogin: false })
  await gw.login()
  const { refreshToken: before } = stored(wx)
  clock += 60 * 60 * 1000
  let loggingOut
  let issued
  const request = wx.request
  wx.request = (options) => {
    if (!options.url.endsWith('/auth/token')) return request(options)
    const success = options.success
    const task = request({ ...options, success: (res) => { issued = res.data.refresh_token; success(res) } })
    // The refresh is on the wire, its answer not yet read: log out right now.
    loggingOut = gw.logout()
    return task
  }
  const log = mark(stack, wx)
  const error = await gw.request({ url: '/api/x' }).then(() => null, (e) => e)
  await loggingOut
  assert.ok(error instanceof GatewayAuthError, String(error))
  assert.equal(error.code, 'logged_out')
  assert.equal(stored(wx), null)
  assert.equal(gw.session(), null)
  // Every call has been answered (the revoke of the discarded tokens is sent in the background).
  const lines = summary(await log.lines())
  wx.request = request
  assert.ok(lines.includes('POST /auth/token 200'), lines.join('\n'))
  assert.ok(!lines.some((l) => l.startsWith('GET')), 'the request never went out')
  // Neither the old refresh token nor the one the in-flight refresh brought back still works.
  // (Whether the gateway took the refresh or the logout first, the session must be over.)
  assert.equal(typeof issued, 'string')
  for (const token of [issued, before]) {
    const refresh = await direct(stack, 'POST', '/auth/token', { json: { grant_type: 'refresh_token', refresh_token: token } })
    assert.equal(refresh.statusCode, 400, lines.join('\n'))
  }
})
