'use strict'

// Socket URLs are checked like request URLs (issue 22 item 11): the token goes only to the
// gateway's origin, compared exactly (scheme, host, port), never to a URL that merely starts with
// the base URL. No test here sends anything beyond loopback: a URL the client should have refused
// reaches a guard that records it and fails instead of the network.

const test = require('node:test')
const assert = require('node:assert/strict')
const { startGatewayStack } = require('../test-helpers/gateway')
const { createFakeWx } = require('../test-helpers/fake-platform')
const { newClient, stored, STORAGE_KEY } = require('../test-helpers/fixtures')
const { createGatewayClient } = require('..')

let stack
test.before(async () => { stack = await startGatewayStack() })
test.after(async () => { if (stack) await stack.stop() })

// Requests to anything but the test gateway are recorded and failed, never sent.
function guardNetwork(wx, allowedPort) {
  const request = wx.request
  wx.offLoopback = []
  wx.request = (options) => {
    if (!options.url.startsWith(`http://127.0.0.1:${allowedPort}/`)) {
      wx.offLoopback.push(options.url)
      return options.fail({ errMsg: 'request:fail blocked by the test' })
    }
    return request(options)
  }
  return wx
}

const sockets = (wx) => wx.calls.filter((c) => c.api === 'connectSocket')

async function refused(gw, wx, url) {
  const before = wx.calls.length
  await assert.rejects(gw.connectSocket({ url }), /refusing to send the gateway token/, url)
  assert.equal(wx.calls.length, before, `nothing was called for ${url}`)
}

test('socket URLs that only start like the gateway, or name it as userinfo, are refused, no token sent', async () => {
  const port = stack.port
  const wx = guardNetwork(createFakeWx({ user: `sock-refused-${process.pid}` }), port)
  const { gw } = newClient(stack, { wx })
  await gw.login()
  for (const url of [
    `ws://127.0.0.1:${port}.evil.cn/ws`,
    `ws://127.0.0.1:${port}@evil.cn/ws`,
    `ws://127.0.0.1:${port}0/ws`,
    `ws://127.0.0.1:${port}\\@evil.cn/ws`,
    `ws://user:pw@127.0.0.1:${port}/ws`,
    `ws://127.0.0.1.evil.cn:${port}/ws`,
    `wss://127.0.0.1:${port}/ws`,
    `ws://127.0.0.1/ws`,
    `ws:127.0.0.1:${port}/ws`,
    `ws:///127.0.0.1:${port}/ws`,
    `http://127.0.0.1:${port}@evil.cn/ws`,
    'ws://evil.cn/ws',
    'ftp://127.0.0.1/ws',
  ]) {
    await refused(gw, wx, url)
  }
  assert.deepEqual(sockets(wx), [])
  assert.deepEqual(wx.offLoopback, [])
})

test('socket URLs on the gateway are accepted, relative ones resolved onto it, with the token', async () => {
  const port = stack.port
  const wx = guardNetwork(createFakeWx({ user: `sock-accepted-${process.pid}` }), port)
  const { gw } = newClient(stack, { wx })
  await gw.login()
  const origin = `ws://127.0.0.1:${port}`
  const cases = [
    ['/ws/chat', `${origin}/ws/chat`],
    ['ws/chat', `${origin}/ws/chat`],
    ['//evil.cn/ws', `${origin}//evil.cn/ws`], // a path on the gateway, not a host
    [`ws://127.0.0.1:${port}/ws/chat?room=1`, `${origin}/ws/chat?room=1`],
    [`WS://127.0.0.1:${port}/ws/chat`, `${origin}/ws/chat`],
    [`http://127.0.0.1:${port}/ws/chat`, `${origin}/ws/chat`],
  ]
  for (const [url, expected] of cases) {
    const task = await gw.connectSocket({ url })
    assert.equal(task.url, expected, url)
    assert.equal(task.header.Authorization, `Bearer ${stored(wx).accessToken}`)
  }
  assert.equal(sockets(wx).length, cases.length)
  assert.deepEqual(wx.offLoopback, [])
})

test('request URLs are checked the same way', async () => {
  const port = stack.port
  const wx = guardNetwork(createFakeWx({ user: `req${process.pid}` }), port)
  const { gw } = newClient(stack, { wx })
  await gw.login()
  const before = wx.calls.length
  for (const url of [
    `http://127.0.0.1:${port}.evil.cn/api/x`,
    `http://127.0.0.1:${port}@evil.cn/api/x`,
    `http://127.0.0.1:${port}\\@evil.cn/api/x`,
    `http://user@127.0.0.1:${port}/api/x`,
    `https://127.0.0.1:${port}/api/x`,
    `ws://127.0.0.1:${port}/api/x`,
    `http:127.0.0.1:${port}/api/x`,
  ]) {
    await assert.rejects(gw.request({ url }), /refusing to send the gateway token/, url)
  }
  assert.equal(wx.calls.length, before)
  const res = await gw.request({ url: `HTTP://127.0.0.1:${port}/api/absolute` })
  assert.equal(res.statusCode, 200)
  assert.equal(res.data.path, '/api/absolute')
  assert.deepEqual(wx.offLoopback, [])
})

// A named host: case, default ports, TLS. The session is in storage already, so nothing goes on the
// network (the guard would record it).
function namedClient(baseURL) {
  const wx = guardNetwork(createFakeWx({ user: 'named' }), stack.port)
  const now = Date.now()
  wx.setStorageSync(STORAGE_KEY, {
    v: 1, accessToken: 'stored-access', refreshToken: 'stored-refresh', expiresAt: now + 3600e3,
    refreshAt: now + 3000e3, openid: 'named',
  })
  return { gw: createGatewayClient({ baseURL, platform: wx }), wx }
}

test('on a named https gateway, only wss:// (or https://) URLs of its exact origin get the token', async () => {
  for (const base of ['https://gw.example.com', 'https://gw.example.com:443', 'https://GW.example.com/']) {
    const { gw, wx } = namedClient(base)
    for (const url of [
      'wss://gw.example.com.evil.cn/',
      'wss://gw.example.com@evil.cn/',
      'wss://gw.example.com:443@evil.cn/',
      'wss://gw.example.com%2eevil.cn/',
      'wss://gw.example.com./ws',
      'wss://gw.example.com:8443/ws',
      'wss://gw.example.com:/ws',
      'ws://gw.example.com/ws',
      'ws://gw.example.com:443/ws',
      'wss://evil.cn/gw.example.com',
      'wss://evil.cn/?gw.example.com',
      'wss://[::1]/ws',
      'wss://gw.example.com\t.evil.cn/',
    ]) {
      await refused(gw, wx, url)
    }
    for (const [url, expected] of [
      ['/ws/chat', 'wss://gw.example.com/ws/chat'],
      ['wss://gw.example.com/ws/chat', 'wss://gw.example.com/ws/chat'],
      ['wss://GW.Example.COM/ws/chat', 'wss://GW.Example.COM/ws/chat'],
      ['wss://gw.example.com:443/ws/chat', 'wss://gw.example.com:443/ws/chat'],
      ['https://gw.example.com/ws/chat', 'wss://gw.example.com/ws/chat'],
    ]) {
      const task = await gw.connectSocket({ url })
      const want = base === 'https://gw.example.com:443' && url === '/ws/chat'
        ? 'wss://gw.example.com:443/ws/chat' : base === 'https://GW.example.com/' && url === '/ws/chat'
          ? 'wss://GW.example.com/ws/chat' : expected
      assert.equal(task.url, want, `${url} on ${base}`)
      assert.equal(task.header.Authorization, 'Bearer stored-access')
    }
    assert.deepEqual(wx.offLoopback, [])
  }
})

test('a baseURL that is not a plain http(s) origin is refused', () => {
  const wx = createFakeWx()
  for (const baseURL of ['https://user@gw.example.com', 'https://gw.example.com.', 'ftp://gw.example.com',
    'https:gw.example.com', 'https://gw.example.com:99999', 'https://gw.example.com?x=1', 'https://gw.example.com#x']) {
    assert.throws(() => createGatewayClient({ baseURL, platform: wx }), TypeError, baseURL)
  }
})
