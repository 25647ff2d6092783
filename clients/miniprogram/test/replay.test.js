'use strict'

// Replaying only what the upstream never saw (issue 22 item 12): a 401 is recovered from (refresh,
// replay) only when the gateway made it, which it says with `X-Gateway-Error`. An upstream's own
// 401, even one that says invalid_token, is returned as it is: the request may have had its effect.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { startGatewayStack } = require('../test-helpers/gateway')
const { newClient, stored, mark, summary, direct, STORAGE_KEY } = require('../test-helpers/fixtures')
const { waitFor } = require('../test-helpers/processes')

let stack
let paths = 0
test.before(async () => { stack = await startGatewayStack() })
test.after(async () => { if (stack) await stack.stop() })

const fresh = (name) => `/api/replay-${process.pid}-${++paths}/${name}`

// A token the gateway refuses (bad signature): its 401 is the gateway's own.
function spoilAccessToken(wx) {
  const session = stored(wx)
  const i = session.accessToken.length - 10
  session.accessToken = session.accessToken.slice(0, i) + (session.accessToken[i] === 'A' ? 'Q' : 'A') +
    session.accessToken.slice(i + 1)
  wx.setStorageSync(STORAGE_KEY, session)
}

for (const behaviour of ['own-invalid-token', 'forged-mark']) {
  test(`an upstream's own 401 invalid_token (${behaviour}) is returned untouched: no refresh, the POST reached it once`,
    async () => {
      const { gw, wx } = newClient(stack)
      await gw.login()
      const before = stored(wx)
      const target = fresh(behaviour)
      const log = mark(stack, wx)

      const res = await gw.request({ url: target, method: 'POST', data: { order: 1 } })
      assert.equal(res.statusCode, 401)
      assert.deepEqual(res.data, { error: 'invalid_token', error_description: 'the service refused it' })
      assert.equal(res.header['www-authenticate'],
        'Bearer error="invalid_token", error_description="the service refused it"')
      assert.equal(res.header['x-gateway-error'], undefined, 'the gateway removes a mark the upstream sends')

      assert.deepEqual(summary(await log.lines()), [`POST ${target} 401`], 'no refresh, no replay')
      assert.equal(stack.upstreamReceived('POST', target), 1, 'the POST reached the upstream exactly once')
      assert.deepEqual(stored(wx), before, 'the session is kept: the gateway did not refuse the token')
    })
}

test("an upload answered by the upstream's own 401 invalid_token is not sent again", async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-'))
  const file = path.join(dir, 'photo.jpg')
  fs.writeFileSync(file, Buffer.alloc(2048, 7))
  try {
    const target = fresh('own-invalid-token')
    const log = mark(stack, wx)
    const res = await gw.uploadFile({ url: target, filePath: file, name: 'file' })
    assert.equal(res.statusCode, 401)
    assert.equal(JSON.parse(res.data).error, 'invalid_token')
    assert.deepEqual(summary(await log.lines()), [`POST ${target} 401`])
    assert.equal(stack.upstreamReceived('POST', target), 1)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test("the gateway's own 401 on /auth/phone is still refreshed and replayed once", async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  spoilAccessToken(wx)
  const log = mark(stack, wx)
  const phone = await gw.getPhoneNumber('phone:13900000001')
  assert.equal(phone.purePhoneNumber, '13900000001')
  assert.deepEqual(summary(await log.lines()), ['POST /auth/phone 401', 'POST /auth/token 200', 'POST /auth/phone 200'])
})

test.describe('with 3-second access tokens', () => {
  let short
  test.before(async () => { short = await startGatewayStack({ accessTtl: '3s', leeway: '0s' }) })
  test.after(async () => { if (short) await short.stop() })

  test("the gateway's own 401 for an expired token is refreshed and the POST replayed once; the upstream sees it once",
    async () => {
      const frozen = Date.now()
      // The client's clock stands still, so it never refreshes early: the gateway's 401 is real.
      const { gw, wx } = newClient(short, { now: () => frozen })
      await gw.login()
      const { accessToken } = stored(wx)
      await waitFor(async () => (await direct(short, 'GET', '/api/probe', { token: accessToken })).statusCode === 401,
        { timeout: 30000, interval: 200, what: 'the gateway to refuse the expired token' })
      const probe = await direct(short, 'GET', '/api/probe', { token: accessToken })
      assert.equal(probe.header['x-gateway-error'], 'invalid_token', 'the gateway marks its own 401')

      const target = `/api/replay-${process.pid}-expired/echo`
      const log = mark(short, wx)
      const res = await gw.request({ url: target, method: 'POST', data: { order: 2 } })
      assert.equal(res.statusCode, 200)
      assert.equal(res.data.method, 'POST')
      assert.deepEqual(summary(await log.lines()), [`POST ${target} 401`, 'POST /auth/token 200', `POST ${target} 200`])
      assert.equal(short.upstreamReceived('POST', target), 1, 'the refused POST never reached the upstream')
      assert.notEqual(stored(wx).accessToken, accessToken)
    })
})
