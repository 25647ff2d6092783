'use strict'

// uploadFile, the phone number and user-info endpoints, and connectSocket.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { startGatewayStack } = require('../test-helpers/gateway')
const { newClient, stored, mark, summary, STORAGE_KEY } = require('../test-helpers/fixtures')
const { GatewayError } = require('..')

let stack
test.before(async () => { stack = await startGatewayStack() })
test.after(async () => { if (stack) await stack.stop() })

test('uploadFile sends the file with the bearer token and recovers from a 401 like request', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'upload-')), 'avatar.png')
  fs.writeFileSync(file, crypto.randomBytes(50000))
  try {
    const res = await gw.uploadFile({ url: '/api/avatar', filePath: file, name: 'file', formData: { kind: 'avatar' } })
    assert.equal(res.statusCode, 200)
    const echoed = JSON.parse(res.data)
    assert.equal(echoed.method, 'POST')
    assert.equal(echoed.headers['x-openid'], gw.session().openid)
    assert.match(echoed.headers['content-type'], /^multipart\/form-data; boundary=/)
    assert.ok(echoed.bodyLength > 50000, `the whole file arrived (${echoed.bodyLength} bytes)`)

    // With a token the gateway refuses, the upload is refreshed and sent again.
    const session = stored(wx)
    const i = session.accessToken.length - 10
    session.accessToken = session.accessToken.slice(0, i) + (session.accessToken[i] === 'A' ? 'Q' : 'A') + session.accessToken.slice(i + 1)
    wx.setStorageSync(STORAGE_KEY, session)
    const log = mark(stack, wx)
    const again = await gw.uploadFile({ url: '/api/avatar', filePath: file, name: 'file' })
    assert.equal(again.statusCode, 200)
    assert.ok(JSON.parse(again.data).bodyLength > 50000)
    assert.deepEqual(summary(await log.lines()), ['POST /api/avatar 401', 'POST /auth/token 200', 'POST /api/avatar 200'])
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true })
  }
})

test('getPhoneNumber posts the code to /auth/phone and returns the number', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const log = mark(stack, wx)
  const phone = await gw.getPhoneNumber('phone:13912345678')
  assert.equal(phone.purePhoneNumber, '13912345678')
  assert.equal(phone.countryCode, '86')
  assert.deepEqual(summary(await log.lines()), ['POST /auth/phone 200'])
})

test('userInfo posts the encrypted data and returns what the gateway decrypted', async () => {
  const { gw } = newClient(stack)
  const { openid } = await gw.login()
  const sessionKey = await stack.sessionKey(openid)
  const plain = JSON.stringify({ nickName: 'Alice', watermark: { appid: stack.appid, timestamp: 1700000000 } })
  const iv = crypto.randomBytes(16)
  const cipher = crypto.createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv)
  const encryptedData = Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64')
  const rawData = JSON.stringify({ nickName: 'Alice' })
  const signature = crypto.createHash('sha1').update(rawData + sessionKey).digest('hex')

  const info = await gw.userInfo({ encryptedData, iv: iv.toString('base64'), rawData, signature })
  assert.equal(info.nickName, 'Alice')

  const refused = await gw.userInfo({ encryptedData, iv: iv.toString('base64'), rawData, signature: 'f'.repeat(40) })
    .then(() => null, (e) => e)
  assert.ok(refused instanceof GatewayError, String(refused))
  assert.equal(refused.statusCode, 400)
  assert.equal(refused.code, 'invalid_request')
  assert.ok(gw.session(), 'a refused signature is not an auth failure')
})

test('connectSocket opens a wss:// socket on the gateway with the Authorization header', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const task = await gw.connectSocket({ url: '/ws/chat', protocols: ['chat'] })
  assert.equal(task.url, `${stack.baseURL.replace(/^http/, 'ws')}/ws/chat`)
  assert.equal(task.header.Authorization, `Bearer ${stored(wx).accessToken}`)
  const opened = wx.calls.filter((c) => c.api === 'connectSocket')
  assert.equal(opened.length, 1)
})

test('a URL on another host is refused before any token is sent', async () => {
  const { gw, wx } = newClient(stack)
  await gw.login()
  const before = wx.calls.length
  await assert.rejects(gw.request({ url: 'https://evil.example.com/api/x' }), /refusing to send the gateway token/)
  await assert.rejects(gw.connectSocket({ url: 'wss://evil.example.com/ws' }), /refusing to send the gateway token/)
  assert.equal(wx.calls.length, before)
  const own = await gw.request({ url: `${stack.baseURL}/api/absolute` })
  assert.equal(own.statusCode, 200)
})
