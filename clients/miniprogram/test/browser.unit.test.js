'use strict'

// Unit tests of the browser adapter (browser.js) on a fake window: fetch answered by a handler,
// localStorage a Map, location and history recorded. The real browser runs the same code against
// the real gateway in Tests/browser.

const test = require('node:test')
const assert = require('node:assert/strict')
const { webcrypto } = require('node:crypto')
const { createBrowserClient, createBrowserPlatform, authorizeURL, readCallback } = require('../browser')
const { GatewayLoginError, GatewayNetworkError } = require('..')

const BASE = 'https://gw.example.com'
const APPID = 'wxh5000000000001'

function fakeWindow(href, handler = () => ({ status: 404 })) {
  const items = new Map()
  const win = {
    fetches: [],
    assigned: [],
    replaced: [],
    crypto: webcrypto,
    localStorage: {
      getItem: (k) => (items.has(k) ? items.get(k) : null),
      setItem: (k, v) => items.set(k, String(v)),
      removeItem: (k) => items.delete(k),
    },
    items,
    location: { href, assign(url) { win.assigned.push(url) } },
    history: {
      state: { page: 1 },
      replaceState(state, _title, url) { win.replaced.push({ state, url }); win.location.href = url },
    },
    async fetch(url, init) {
      win.fetches.push({ url, init })
      const answer = await handler(url, init)
      if (answer instanceof Error) throw answer
      const body = answer.json !== undefined ? JSON.stringify(answer.json) : (answer.body || null)
      return new Response(body, { status: answer.status, headers: answer.headers || {} })
    },
  }
  return win
}

const tokens = (n, ttl = 900) => ({
  access_token: `a${n}`, refresh_token: `r${n}`, expires_in: ttl, refresh_expires_in: 86400, openid: 'o-web',
})

function client(win, extra = {}) {
  return createBrowserClient({ baseURL: BASE, appid: APPID, kind: 'officialaccount', window: win, ...extra })
}

const pending = (promise) => Promise.race([promise.then(() => 'settled', () => 'settled'),
  new Promise((resolve) => setImmediate(() => resolve('pending')))])

test('the authorize URL: WeChat\'s parameter order, the scope of the kind, #wechat_redirect last', () => {
  const common = { appid: APPID, redirectURI: 'https://h5.example.com/app?x=1', state: 's1' }
  assert.equal(authorizeURL({ ...common }),
    'https://open.weixin.qq.com/connect/oauth2/authorize?appid=wxh5000000000001' +
    '&redirect_uri=https%3A%2F%2Fh5.example.com%2Fapp%3Fx%3D1&response_type=code&scope=snsapi_base&state=s1' +
    '#wechat_redirect')
  assert.match(authorizeURL({ ...common, scope: 'snsapi_userinfo' }), /&scope=snsapi_userinfo&/)
  assert.equal(authorizeURL({ ...common, kind: 'website', openBase: 'http://127.0.0.1:9/' }),
    'http://127.0.0.1:9/connect/qrconnect?appid=wxh5000000000001' +
    '&redirect_uri=https%3A%2F%2Fh5.example.com%2Fapp%3Fx%3D1&response_type=code&scope=snsapi_login&state=s1' +
    '#wechat_redirect')
})

test('readCallback finds code and state and the URL without them, other parameters kept', () => {
  assert.deepEqual(readCallback('https://h5.example.com/app?x=1&code=c1&state=s1#/home'),
    { present: true, code: 'c1', state: 's1', cleanURL: 'https://h5.example.com/app?x=1#/home' })
  assert.equal(readCallback('https://h5.example.com/app?x=1').present, false)
  // A redirect keeps the authorize URL's fragment when its Location has none: a real browser comes back so.
  assert.equal(readCallback('https://h5.example.com/app?code=c1&state=s1#wechat_redirect').cleanURL,
    'https://h5.example.com/app')
  assert.equal(readCallback('https://h5.example.com/app?state=s1').present, true)
})

test('options are checked at creation: kind, its scope, appid, crypto', () => {
  const win = fakeWindow('https://h5.example.com/')
  const make = (extra) => () => createBrowserPlatform({ appid: APPID, window: win, ...extra })
  assert.throws(make({ kind: 'miniprogram' }), /kind must be/)
  assert.throws(make({ kind: 'website', scope: 'snsapi_base' }), /scope for website must be snsapi_login/)
  assert.throws(make({ scope: 'snsapi_login' }), /snsapi_base or snsapi_userinfo/)
  assert.throws(make({ appid: '' }), /appid/)
  assert.throws(make({ window: { ...win, crypto: undefined } }), /getRandomValues/)
  assert.doesNotThrow(make({ kind: 'website' }))
})

test('login without a callback stores a fresh random state, then sends the browser to WeChat', async () => {
  const win = fakeWindow('https://h5.example.com/shop/?tab=2#/cart')
  const gw = client(win, { scope: 'snsapi_userinfo', openBase: 'http://sim.test' })
  const login = gw.login()
  assert.equal(await pending(login), 'pending') // the page is leaving
  assert.equal(win.assigned.length, 1)
  const target = new URL(win.assigned[0])
  assert.equal(target.origin + target.pathname, 'http://sim.test/connect/oauth2/authorize')
  assert.equal(target.searchParams.get('redirect_uri'), 'https://h5.example.com/shop/?tab=2')
  assert.equal(target.searchParams.get('scope'), 'snsapi_userinfo')
  assert.equal(target.hash, '#wechat_redirect')
  const state = target.searchParams.get('state')
  assert.match(state, /^[0-9a-f]{32}$/)
  assert.equal(win.items.get('wechat-gateway:oauth.state'), JSON.stringify(state))
  assert.equal(win.fetches.length, 0)

  const again = fakeWindow('https://h5.example.com/')
  client(again).login()
  await new Promise(setImmediate)
  assert.notEqual(new URL(again.assigned[0]).searchParams.get('state'), state)
})

test('a website logs in with qrconnect and snsapi_login', async () => {
  const win = fakeWindow('https://www.example.com/login')
  client(win, { kind: 'website' }).login()
  await new Promise(setImmediate)
  assert.match(win.assigned[0], /^https:\/\/open\.weixin\.qq\.com\/connect\/qrconnect\?.*&scope=snsapi_login&/)
})

function returning(state, stored, handler) {
  const query = state === null ? '' : `&state=${state}`
  const win = fakeWindow(`https://h5.example.com/app?from=menu&code=CODE1${query}`, handler)
  if (stored !== null) win.localStorage.setItem('wechat-gateway:oauth.state', JSON.stringify(stored))
  return win
}

test('the callback with the stored state: {code, appid} to /auth/login, state spent, address bar cleaned', async () => {
  const win = returning('s-good', 's-good', () => ({ status: 200, json: tokens(1) }))
  const gw = client(win)
  assert.equal(gw.hasLoginCallback(), true)
  const session = await gw.login()
  assert.equal(session.openid, 'o-web')
  assert.equal(win.fetches.length, 1)
  assert.equal(win.fetches[0].url, `${BASE}/auth/login`)
  assert.equal(win.fetches[0].init.method, 'POST')
  assert.equal(win.fetches[0].init.credentials, 'omit')
  assert.deepEqual(JSON.parse(win.fetches[0].init.body), { code: 'CODE1', appid: APPID })
  assert.equal(win.items.has('wechat-gateway:oauth.state'), false)
  assert.deepEqual(win.replaced, [{ state: { page: 1 }, url: 'https://h5.example.com/app?from=menu' }])
  assert.equal(gw.hasLoginCallback(), false)
  assert.equal(JSON.parse(win.items.get('wechat-gateway:gateway.session')).accessToken, 'a1')
})

for (const [name, state, stored] of [
  ['a forged state', 's-forged', 's-good'],
  ['a state when none was stored (reused, or another browser\'s)', 's-good', null],
  ['no state in the callback', null, 's-good'],
]) {
  test(`${name} is refused: GatewayLoginError invalid_state, the code is never sent`, async () => {
    const win = returning(state, stored, () => ({ status: 200, json: tokens(1) }))
    const error = await client(win).login().then(() => null, (e) => e)
    assert.ok(error instanceof GatewayLoginError, String(error))
    assert.equal(error.cause.code, 'invalid_state')
    assert.match(error.message, /its code was not sent/)
    assert.equal(win.fetches.length, 0)
    assert.equal(win.items.has('wechat-gateway:oauth.state'), false)
    assert.equal(win.location.href, 'https://h5.example.com/app?from=menu')
  })
}

test('a callback used once is refused the second time', async () => {
  const win = returning('s-good', 's-good', () => ({ status: 200, json: tokens(1) }))
  await client(win).login()
  win.location.href = 'https://h5.example.com/app?code=CODE1&state=s-good'
  const error = await client(win).login().then(() => null, (e) => e)
  assert.equal(error && error.cause.code, 'invalid_state')
  assert.equal(win.fetches.length, 1)
})

test('the user refusing (state, no code) rejects access_denied without a request', async () => {
  const win = fakeWindow('https://h5.example.com/app?state=s-good')
  win.localStorage.setItem('wechat-gateway:oauth.state', JSON.stringify('s-good'))
  const error = await client(win).login().then(() => null, (e) => e)
  assert.equal(error.cause.code, 'access_denied')
  assert.equal(win.fetches.length, 0)
})

function loggedIn(handler, session = tokens(1)) {
  const win = returning('s', 's', async (url, init) => (url.endsWith('/auth/login') ? { status: 200, json: session }
    : handler(url, init)))
  return win
}

test('requests go through fetch with the bearer token, wx.request\'s body rules and answer shape', async () => {
  const win = loggedIn((url) => ({
    status: 201, json: { ok: url }, headers: { 'X-Request-Id': 'rid-1', 'Content-Type': 'application/json' },
  }))
  const gw = client(win)
  await gw.login()
  const got = await gw.request({ url: '/api/items', method: 'GET', data: { page: 2, q: 'a b' } })
  assert.equal(got.statusCode, 201)
  assert.deepEqual(got.data, { ok: `${BASE}/api/items?page=2&q=a%20b` })
  assert.equal(got.header['x-request-id'], 'rid-1')
  const sent = win.fetches[1]
  assert.equal(sent.init.headers.Authorization, 'Bearer a1')
  assert.equal(sent.init.body, undefined)

  await gw.request({ url: '/api/items', method: 'POST', data: { n: 1 } })
  assert.equal(win.fetches[2].init.body, '{"n":1}')
  assert.equal(win.fetches[2].init.headers['Content-Type'], 'application/json')
  await gw.request({ url: '/api/f', method: 'POST', data: { n: 1 },
    header: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal(win.fetches[3].init.body, 'n=1')
  const text = await gw.request({ url: '/api/t', dataType: 'text' })
  assert.equal(typeof text.data, 'string')
})

test('one refresh for many requests when the gateway refuses the token (X-Gateway-Error), then replays', async () => {
  let refreshes = 0
  const win = loggedIn(async (url, init) => {
    if (url.endsWith('/auth/token')) {
      refreshes += 1
      await new Promise((resolve) => setTimeout(resolve, 20))
      return { status: 200, json: tokens(2) }
    }
    if (init.headers.Authorization === 'Bearer a1') {
      return { status: 401, json: { error: 'invalid_token' }, headers: { 'X-Gateway-Error': 'invalid_token' } }
    }
    return { status: 200, json: { token: init.headers.Authorization } }
  })
  const gw = client(win)
  await gw.login()
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => gw.request({ url: `/api/${i}` })))
  assert.equal(refreshes, 1)
  assert.deepEqual(new Set(answers.map((a) => a.data.token)), new Set(['Bearer a2']))
})

test('a fetch that fails (no answer, or one CORS withheld) is a GatewayNetworkError, the session kept', async () => {
  const win = loggedIn(() => new TypeError('Failed to fetch'))
  const gw = client(win)
  await gw.login()
  const error = await gw.request({ url: '/api/x' }).then(() => null, (e) => e)
  assert.ok(error instanceof GatewayNetworkError, String(error))
  assert.equal(error.errMsg, 'request:fail Failed to fetch')
  assert.notEqual(gw.session(), null)
})

test('a timeout aborts the fetch and says so', async () => {
  const win = loggedIn((url, init) => new Promise((resolve, reject) => {
    init.signal.addEventListener('abort', () => reject(new Error('aborted')))
  }))
  const gw = client(win, { timeout: 30 })
  await gw.login()
  const error = await gw.request({ url: '/api/slow' }).then(() => null, (e) => e)
  assert.equal(error && error.errMsg, 'request:fail timeout')
})

test('uni-app\'s or Taro\'s own request (callback style) is used instead of fetch', async () => {
  const calls = []
  const uniRequest = (options) => {
    calls.push(options)
    setImmediate(() => options.success({ statusCode: 200, data: options.url.endsWith('/auth/login') ? tokens(1) : {},
      header: {} }))
  }
  const win = returning('s', 's')
  const gw = client(win, { request: uniRequest })
  await gw.login()
  await gw.request({ url: '/api/y' })
  assert.deepEqual(calls.map((c) => c.url), [`${BASE}/auth/login`, `${BASE}/api/y`])
  assert.equal(calls[1].header.Authorization, 'Bearer a1')
  assert.equal(win.fetches.length, 0)
})

test('storage is namespaced, unreadable values count as absent, logout clears the session', async () => {
  const win = loggedIn(() => ({ status: 204 }))
  const gw = client(win, { storagePrefix: 'shop:' })
  win.items.set('shop:oauth.state', JSON.stringify('s')) // the default prefix's state is not this client's
  await gw.login()
  assert.ok(win.items.has('shop:gateway.session'))
  assert.deepEqual(await gw.logout(), { revoked: true })
  assert.equal(win.items.has('shop:gateway.session'), false)
  assert.equal(win.fetches.at(-1).url, `${BASE}/auth/logout`)
  win.items.set('shop:gateway.session', '{not json')
  assert.equal(gw.session(), null)
})

test('storage that throws (site data blocked): requests still work from memory, a login cannot start', async () => {
  const win = loggedIn(() => ({ status: 200, json: {} }))
  const gw = client(win)
  await gw.login()
  Object.defineProperty(win, 'localStorage', { get() { throw new Error('SecurityError') } })
  assert.equal((await gw.request({ url: '/api/x' })).statusCode, 200)
  win.location.href = 'https://h5.example.com/app'
  const fresh = client(win)
  const error = await fresh.login().then(() => null, (e) => e)
  assert.ok(error instanceof GatewayLoginError, String(error))
  assert.equal(win.assigned.length, 0) // never sent to WeChat without a state to check on return
})
