'use strict'

// Recovering from the gateway's 401: refresh once, log in once when the refresh is refused,
// replay once, and never loop.

const test = require('node:test')
const assert = require('node:assert/strict')
const { startGatewayStack } = require('../test-helpers/gateway')
const { newClient, stored, mark, count, summary, direct, STORAGE_KEY } = require('../test-helpers/fixtures')
const { GatewayAuthError, GatewayLoginError, GatewayNetworkError } = require('..')
const { waitFor } = require('../test-helpers/processes')

let stack
test.before(async () => { stack = await startGatewayStack() })
test.after(async () => { if (stack) await stack.stop() })

// One signature character changed, well inside the signature: the last character of a
// base64url HMAC also carries padding bits a lenient decoder may ignore.
function spoil(token) {
  const i = token.length - 10
  return token.slice(0, i) + (token[i] === 'A' ? 'Q' : 'A') + token.slice(i + 1)
}

// A token the gateway refuses with invalid_token: the stored one with its signature changed.
function spoilAccessToken(wx) {
  const session = stored(wx)
  session.accessToken = spoil(session.accessToken)
  wx.setStorageSync(STORAGE_KEY, session)
  return session
}

test('20 concurrent requests answered 401 invalid_token share one refresh and are each replayed once', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const spoiled = spoilAccessToken(wx)
  const fresh = newClient(stack, { wx }).gw // picks the spoiled token up from storage

  // The refresh is held until all 20 answers are in: every request has its 401 before any
  // refresh can finish, so a client that refreshed per request could not get away with it.
  const request = wx.request
  const refused = () => wx.calls.filter((c) => c.api === 'request' && c.url.includes('/api/n/') && c.settled).length
  wx.request = (options) => {
    if (!options.url.endsWith('/auth/token')) return request(options)
    waitFor(() => refused() >= 20, { what: '20 answers' }).then(() => request(options))
  }
  const log = mark(stack, wx)
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => fresh.request({ url: `/api/n/${i}` })))
  wx.request = request
  for (const res of answers) assert.equal(res.statusCode, 200)
  const lines = await log.lines()
  assert.equal(count(lines, 'POST', '/auth/token'), 1, summary(lines).join('\n'))
  assert.equal(count(lines, 'POST', '/auth/token', 200), 1)
  assert.equal(count(lines, 'POST', '/auth/login'), 0)
  assert.equal(lines.filter((l) => l.method === 'GET' && l.status === 401).length, 20)
  assert.equal(lines.filter((l) => l.method === 'GET' && l.status === 200).length, 20)
  assert.notEqual(stored(wx).refreshToken, spoiled.refreshToken)
})

test('logout on another device (family revoked): the next request logs in again once and is replayed', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const openidBefore = gw.session().openid
  // The other device: revokes the session with its copy of the refresh token (RFC 7009).
  const revoke = await direct(stack, 'POST', '/auth/revoke', { json: { token: stored(wx).refreshToken } })
  assert.equal(revoke.statusCode, 200)

  const log = mark(stack, wx)
  const res = await gw.request({ url: '/api/after-revoke' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(summary(await log.lines()), [
    'GET /api/after-revoke 401',
    'POST /auth/token 400',
    'POST /auth/login 200',
    'GET /api/after-revoke 200',
  ])
  assert.equal(wx.calls.filter((c) => c.api === 'login').length, 2, 'wx.login once more')
  assert.notEqual(gw.session().openid, openidBefore, 'a new login (the fake hands out a new code)')
})

test('a second 401 after the replay is a GatewayAuthError with the code and request_id, no loop', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const log = mark(stack, wx)
  // /api/always-401 with a spoiled token every time: spoil the token before each send.
  const request = wx.request
  wx.request = (options) => {
    if (options.url.includes('/api/always-401')) {
      options = { ...options, header: { ...options.header, Authorization: spoil(options.header.Authorization) } }
    }
    return request(options)
  }
  const error = await gw.request({ url: '/api/always-401' }).then(() => null, (e) => e)
  wx.request = request
  assert.ok(error instanceof GatewayAuthError, String(error))
  assert.equal(error.code, 'invalid_token')
  assert.equal(error.statusCode, 401)
  assert.match(error.requestId, /\S/)
  const lines = await log.lines()
  assert.deepEqual(summary(lines), ['GET /api/always-401 401', 'POST /auth/token 200', 'GET /api/always-401 401'])
  assert.equal(error.requestId, lines[2].request_id, 'the request id of the second 401')
  assert.ok(gw.session(), 'the session (refreshed) is kept')
})

test('refresh refused and wx.login failing: one attempt each, a GatewayLoginError, and the dead session dropped', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  await direct(stack, 'POST', '/auth/revoke', { json: { token: stored(wx).refreshToken } })
  wx.loginFailure = 'login:fail network down'
  const log = mark(stack, wx)
  const error = await gw.request({ url: '/api/x' }).then(() => null, (e) => e)
  assert.ok(error instanceof GatewayLoginError, String(error))
  assert.match(error.message, /wx\.login failed: login:fail network down/)
  assert.deepEqual(summary(await log.lines()), ['GET /api/x 401', 'POST /auth/token 400'])
  assert.equal(stored(wx), null, 'the refused session is not kept')
  assert.equal(gw.session(), null)
})

test('a login the gateway refuses is a GatewayAuthError with its code', async () => {
  const { gw, wx } = newClient(stack, { user: 'x' })
  const login = wx.login
  wx.login = ({ success }) => setImmediate(() => success({ code: 'invalid-code' }))
  const log = mark(stack, wx)
  const error = await gw.login().then(() => null, (e) => e)
  wx.login = login
  assert.ok(error instanceof GatewayAuthError, String(error))
  assert.equal(error.code, 'invalid_grant')
  assert.equal(error.statusCode, 400)
  assert.deepEqual(summary(await log.lines()), ['POST /auth/login 400'])
  assert.equal(gw.session(), null)
})

test('an upstream\'s own 401 (not invalid_token) is returned as it is, without a refresh', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const log = mark(stack, wx)
  const res = await gw.request({ url: '/api/own-401' })
  assert.equal(res.statusCode, 401)
  assert.deepEqual(summary(await log.lines()), ['GET /api/own-401 401'])
})

test('a due refresh refused and the login unreachable: the dead token is not sent, one login attempt', async () => {
  let clock = Date.now()
  const { gw, wx } = newClient(stack, { now: () => clock, refreshLeeway: 60 })
  await gw.login()
  await direct(stack, 'POST', '/auth/revoke', { json: { token: stored(wx).refreshToken } })
  clock += 15 * 60 * 1000 - 30 * 1000 // due for refresh, 30 s before expiry
  const request = wx.request
  wx.request = (options) => request(options.url.endsWith('/auth/login') ? { ...options, url: 'http://127.0.0.1:1/auth/login' } : options)
  const log = mark(stack, wx)
  const error = await gw.request({ url: '/api/x' }).then(() => null, (e) => e)
  wx.request = request
  assert.ok(error instanceof GatewayNetworkError, String(error))
  assert.deepEqual(summary(await log.lines()), ['POST /auth/token 400'])
  assert.equal(wx.calls.filter((c) => c.api === 'login').length, 2, 'the launch login and one more')
  assert.equal(gw.session(), null)
})
