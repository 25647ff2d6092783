'use strict'

// Refreshing before expiry, one refresh for many requests, and the real 401 of an expired token.

const test = require('node:test')
const assert = require('node:assert/strict')
const { startGatewayStack } = require('../test-helpers/gateway')
const { newClient, stored, mark, count, summary, direct } = require('../test-helpers/fixtures')
const { waitFor } = require('../test-helpers/processes')

const MINUTE = 60 * 1000
let stack
test.before(async () => { stack = await startGatewayStack({ accessTtl: '15m' }) })
test.after(async () => { if (stack) await stack.stop() })

test('20 concurrent requests on an expired token make exactly one /auth/token call', async () => {
  let clock = Date.now()
  const { gw, wx } = newClient(stack, { now: () => clock })
  await gw.login()
  const before = stored(wx)

  clock += 16 * MINUTE // past the 15-minute lifetime, as the client sees it
  const log = mark(stack, wx)
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => gw.request({ url: `/api/item/${i}` })))
  for (const res of answers) assert.equal(res.statusCode, 200)

  const lines = await log.lines()
  assert.equal(count(lines, 'POST', '/auth/token'), 1, summary(lines).join('\n'))
  assert.equal(count(lines, 'POST', '/auth/token', 200), 1)
  assert.equal(count(lines, 'POST', '/auth/login'), 0)
  assert.equal(lines.filter((l) => l.method === 'GET' && l.status === 200).length, 20)
  assert.equal(summary(lines)[0], 'POST /auth/token 200', 'the refresh went out before any request')

  // The rotated pair replaced the old one, and every request went out with the new token.
  const after = stored(wx)
  assert.notEqual(after.refreshToken, before.refreshToken)
  assert.notEqual(after.accessToken, before.accessToken)
  const sent = wx.calls.filter((c) => c.api === 'request' && c.url.includes('/api/item/'))
  assert.equal(sent.length, 20)
  for (const call of sent) assert.equal(call.header.Authorization, `Bearer ${after.accessToken}`)

  // The stored refresh token is the live one: the next refresh succeeds (a spent one would be
  // answered 400 invalid_grant and end the session).
  clock += 16 * MINUTE
  const next = mark(stack, wx)
  assert.equal((await gw.request({ url: '/api/again' })).statusCode, 200)
  assert.deepEqual(summary(await next.lines()), ['POST /auth/token 200', 'GET /api/again 200'])
})

test('the token is refreshed refreshLeeway seconds before expires_in runs out, not earlier', async () => {
  let clock = Date.now()
  const { gw, wx } = newClient(stack, { now: () => clock, refreshLeeway: 60 })
  await gw.login()

  clock += 15 * MINUTE - 61 * 1000 // 61 s left: not yet due
  let log = mark(stack, wx)
  await gw.request({ url: '/api/early' })
  assert.deepEqual(summary(await log.lines()), ['GET /api/early 200'])

  clock += 2 * 1000 // 59 s left: due, refreshed before the request goes out
  log = mark(stack, wx)
  await gw.request({ url: '/api/due' })
  assert.deepEqual(summary(await log.lines()), ['POST /auth/token 200', 'GET /api/due 200'])
})

test('a refresh that fails for a transient reason still sends the request while the token is valid', async () => {
  let clock = Date.now()
  const { gw, wx } = newClient(stack, { now: () => clock, refreshLeeway: 60 })
  await gw.login()
  const before = stored(wx)
  clock += 15 * MINUTE - 30 * 1000 // due for refresh, 30 s still left
  // A refresh token the gateway answers 400 for would end the session; a 503 must not. Make
  // the refresh fail in transport instead: point only /auth/token at a closed port.
  const request = wx.request
  wx.request = (options) => options.url.endsWith('/auth/token')
    ? request({ ...options, url: 'http://127.0.0.1:1/auth/token' })
    : request(options)
  const log = mark(stack, wx)
  const res = await gw.request({ url: '/api/still-valid' })
  wx.request = request
  assert.equal(res.statusCode, 200)
  assert.deepEqual(summary(await log.lines()), ['GET /api/still-valid 200'])
  assert.deepEqual(stored(wx), before, 'session kept')
})

test.describe('with 3-second access tokens', () => {
  let short
  test.before(async () => { short = await startGatewayStack({ accessTtl: '3s', leeway: '0s' }) })
  test.after(async () => { if (short) await short.stop() })

  test('an expired token answered 401 invalid_token is refreshed once and the request replayed once', async () => {
    const frozen = Date.now()
    // The client's clock stands still, so it never refreshes early: the gateway's 401 is real.
    const { gw, wx } = newClient(short, { now: () => frozen })
    await gw.login()
    const { accessToken } = stored(wx)
    await waitFor(async () => (await direct(short, 'GET', '/api/probe', { token: accessToken })).statusCode === 401,
      { timeout: 30000, interval: 200, what: 'the gateway to refuse the expired token' })

    const log = mark(short, wx)
    const res = await gw.request({ url: '/api/after-expiry' })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(summary(await log.lines()),
      ['GET /api/after-expiry 401', 'POST /auth/token 200', 'GET /api/after-expiry 200'])
    assert.notEqual(stored(wx).accessToken, accessToken)
  })
})
