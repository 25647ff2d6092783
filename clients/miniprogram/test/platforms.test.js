'use strict'

// The same flow through `uni`- and `Taro`-shaped platform objects.

const test = require('node:test')
const assert = require('node:assert/strict')
const { startGatewayStack } = require('../test-helpers/gateway')
const { createFakeWx, asTaro, asUni } = require('../test-helpers/fake-platform')
const { mark, summary } = require('../test-helpers/fixtures')
const { createGatewayClient, GatewayLoginError } = require('..')

let stack
test.before(async () => { stack = await startGatewayStack() })
test.after(async () => { if (stack) await stack.stop() })

for (const [name, wrap] of [['uni', asUni], ['Taro', asTaro]]) {
  test(`${name}: login, request, refresh on expiry, logout`, async () => {
    let clock = Date.now()
    const platform = wrap(createFakeWx({ user: `${name}-user` }))
    const gw = createGatewayClient({ baseURL: stack.baseURL, appid: stack.appid, platform, now: () => clock })
    const log = mark(stack, platform)
    const session = await gw.login()
    assert.equal(session.openid, `${name}-user.1`)
    assert.equal((await gw.request({ url: '/api/a' })).data.headers['x-openid'], session.openid)
    clock += 60 * 60 * 1000
    assert.equal((await gw.request({ url: '/api/b' })).statusCode, 200)
    assert.deepEqual(await gw.logout(), { revoked: true })
    assert.equal(platform.getStorageSync('gateway.session'), '')
    assert.deepEqual(summary(await log.lines()),
      ['POST /auth/login 200', 'GET /api/a 200', 'POST /auth/token 200', 'GET /api/b 200', 'POST /auth/logout 204'])
  })

  test(`${name}: a failing login rejects once with a GatewayLoginError`, async () => {
    const wx = createFakeWx()
    wx.loginFailure = 'login:fail cancelled'
    const gw = createGatewayClient({ baseURL: stack.baseURL, platform: wrap(wx) })
    const error = await gw.login().then(() => null, (e) => e)
    assert.ok(error instanceof GatewayLoginError, String(error))
    assert.equal(error.errMsg, 'login:fail cancelled')
  })
}

test('a platform without the needed calls is refused at creation', () => {
  assert.throws(() => createGatewayClient({ baseURL: stack.baseURL, platform: {} }), /platform lacks login, request/)
  assert.throws(() => createGatewayClient({ baseURL: 'gw.example.com', platform: createFakeWx() }), /baseURL/)
})
