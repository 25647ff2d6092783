'use strict'

// The example mini-program (examples/miniprogram) loaded as WeChat would load it, with the fake wx
// as its `wx`, against the real gateway with 3-second access tokens: launch login → page load →
// the token expires → pull-to-refresh (two requests, one refresh) → logout. The access-log lines
// are printed as the transcript.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { startGatewayStack } = require('../test-helpers/gateway')
const { createFakeWx } = require('../test-helpers/fake-platform')
const { mark, summary } = require('../test-helpers/fixtures')
const { waitFor } = require('../test-helpers/processes')

const EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'examples', 'miniprogram')

let stack
test.before(async () => { stack = await startGatewayStack({ accessTtl: '3s', leeway: '0s' }) })
test.after(async () => { if (stack) await stack.stop() })

// The mini-program runtime's globals: App() registers the app, Page() a page, getApp() returns it.
function loadExample(wx) {
  let app
  let pageDefinition
  global.wx = wx
  global.App = (definition) => { app = definition }
  global.getApp = () => app
  global.Page = (definition) => { pageDefinition = definition }
  const config = require(path.join(EXAMPLE, 'config.js'))
  config.gatewayURL = stack.baseURL
  config.appid = stack.appid
  require(path.join(EXAMPLE, 'app.js'))
  require(path.join(EXAMPLE, 'pages', 'index', 'index.js'))
  const page = Object.assign(Object.create(pageDefinition), { data: { ...pageDefinition.data } })
  page.setData = function setData(patch) { this.data = { ...this.data, ...patch } }
  return { app, page }
}

test('the example app: login → request → expiry → one refresh → logout', async (t) => {
  const wx = createFakeWx({ user: 'example' })
  const log = mark(stack, wx)
  const { app, page } = loadExample(wx)

  app.onLaunch()
  await app.ready
  await page.onLoad()
  assert.equal(page.data.loggedIn, true, page.data.message)
  assert.equal(page.data.orders.path, '/api/orders')
  assert.equal(page.data.orders.headers['x-openid'], 'example.1')

  // Let the 3-second token run out for real (a deadline, not a fixed sleep).
  const { expiresAt } = app.gateway.session()
  await waitFor(() => Date.now() > expiresAt, { timeout: 20000, interval: 100, what: 'the access token to expire' })

  await page.onPullDownRefresh()
  assert.equal(page.data.loggedIn, true, page.data.message)
  assert.equal(page.data.profile.path, '/api/profile')

  await page.onLogout()
  assert.equal(page.data.loggedIn, false)
  assert.equal(wx.getStorageSync('gateway.session'), '')
  assert.equal(app.gateway.session(), null)

  const lines = await log.lines()
  for (const line of lines) {
    t.diagnostic(`${line.time} ${line.method} ${line.path} ${line.status} route=${line.route} openid=${line.openid || '-'}`)
  }
  const steps = summary(lines)
  const pair = (a, b) => [a, b].sort()
  assert.equal(steps.length, 7, steps.join('\n'))
  assert.equal(steps[0], 'POST /auth/login 200')
  assert.deepEqual(pair(steps[1], steps[2]), ['GET /api/orders 200', 'GET /api/profile 200'])
  assert.equal(steps[3], 'POST /auth/token 200', 'one refresh, before the two requests')
  assert.deepEqual(pair(steps[4], steps[5]), ['GET /api/orders 200', 'GET /api/profile 200'])
  assert.equal(steps[6], 'POST /auth/logout 204')
})
