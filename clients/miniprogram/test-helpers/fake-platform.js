'use strict'

// A `wx` for Node: login hands out simulator codes, request/uploadFile make real HTTP calls with
// Node's http, storage is a Map holding serialised copies (as wx does: what comes back is a copy,
// never the object that was stored). Every call is recorded in `calls` for the assertions.
//
// Codes are `openid:<user>.<n>`: the simulator accepts a code once and turns `openid:X` into
// openid X, so each login is a new, valid code, and the openid shows which login it came from.

const http = require('node:http')
const fs = require('node:fs')
const path = require('node:path')

function encodeQuery(data) {
  return Object.keys(data).map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(String(data[k]))}`).join('&')
}

function headerIn(header, name) {
  const key = Object.keys(header).find((k) => k.toLowerCase() === name)
  return key === undefined ? undefined : header[key]
}

// wx.request's body rules: GET data goes to the query, objects become JSON unless the
// content-type says form, strings go as they are.
function requestBody(method, url, data, header) {
  if (data === undefined || data === null) return { url, body: null }
  if (method === 'GET' && typeof data === 'object') {
    const query = encodeQuery(data)
    return { url: query ? url + (url.includes('?') ? '&' : '?') + query : url, body: null }
  }
  if (typeof data === 'string' || Buffer.isBuffer(data)) return { url, body: Buffer.from(data) }
  const type = String(headerIn(header, 'content-type') || 'application/json')
  return { url, body: Buffer.from(type.includes('x-www-form-urlencoded') ? encodeQuery(data) : JSON.stringify(data)) }
}

function send(url, method, header, body, timeout) {
  return new Promise((resolve, reject) => {
    const headers = { ...header }
    if (body) headers['Content-Length'] = String(body.length)
    const req = http.request(url, { method, headers, timeout: timeout || 30000 }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => resolve({ statusCode: res.statusCode, header: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end(body || undefined)
  })
}

// Marks a recorded call as answered (or failed), keeping the gateway's X-Request-Id: the tests
// find each call's access-log line by it.
function settle(call, res) {
  call.settled = true
  if (res) call.requestId = res.header['x-request-id']
}

function createFakeWx({ user = 'alice', storage = new Map() } = {}) {
  let logins = 0
  const wx = {
    storage,
    calls: [],
    loginFailure: null, // set to an errMsg to make wx.login fail

    login({ success, fail } = {}) {
      wx.calls.push({ api: 'login' })
      setImmediate(() => {
        if (wx.loginFailure) return fail && fail({ errMsg: wx.loginFailure })
        logins += 1
        success && success({ code: `openid:${user}.${logins}`, errMsg: 'login:ok' })
      })
    },

    request({ url, method = 'GET', data, header = {}, timeout, dataType = 'json', success, fail } = {}) {
      method = method.toUpperCase()
      const call = { api: 'request', url, method, header: { ...header }, settled: false }
      wx.calls.push(call)
      const prepared = requestBody(method, url, data, header)
      const sendHeader = { ...header }
      if (prepared.body && !headerIn(header, 'content-type')) sendHeader['Content-Type'] = 'application/json'
      send(prepared.url, method, sendHeader, prepared.body, timeout).then(
        (res) => {
          settle(call, res)
          let parsed = res.text
          if (dataType === 'json') {
            try { parsed = JSON.parse(res.text) } catch (_) { /* wx keeps the text */ }
          }
          success && success({ statusCode: res.statusCode, data: parsed, header: res.header, errMsg: 'request:ok' })
        },
        (error) => { settle(call); fail && fail({ errMsg: `request:fail ${error.message}` }) })
      return { abort() {} }
    },

    // multipart/form-data with the file under `name`, as wx.uploadFile sends it; data is a string.
    // As wx's, the success has no `header`: the task's onHeadersReceived listeners get it first.
    uploadFile({ url, filePath, name, header = {}, formData = {}, timeout, success, fail } = {}) {
      const call = { api: 'uploadFile', url, header: { ...header }, settled: false }
      wx.calls.push(call)
      const headerListeners = []
      const task = { abort() {}, onHeadersReceived(listener) { headerListeners.push(listener) } }
      let file
      try {
        file = fs.readFileSync(filePath)
      } catch (error) {
        setImmediate(() => { settle(call); fail && fail({ errMsg: `uploadFile:fail ${error.message}` }) })
        return task
      }
      const boundary = `----wxfake${Date.now().toString(16)}`
      const parts = []
      for (const key of Object.keys(formData)) {
        parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${formData[key]}\r\n`))
      }
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${path.basename(filePath)}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n'), file, Buffer.from(`\r\n--${boundary}--\r\n`))
      const body = Buffer.concat(parts)
      send(url, 'POST', { ...header, 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body, timeout).then(
        (res) => {
          settle(call, res)
          for (const listener of headerListeners) listener({ header: res.header })
          success && success({ statusCode: res.statusCode, data: res.text, errMsg: 'uploadFile:ok' })
        },
        (error) => { settle(call); fail && fail({ errMsg: `uploadFile:fail ${error.message}` }) })
      return task
    },

    connectSocket(options) {
      wx.calls.push({ api: 'connectSocket', url: options.url, header: { ...options.header } })
      return { url: options.url, header: options.header, onOpen() {}, onMessage() {}, send() {}, close() {} }
    },

    getStorageSync(key) {
      return storage.has(key) ? JSON.parse(storage.get(key)) : ''
    },
    setStorageSync(key, value) {
      storage.set(key, JSON.stringify(value))
    },
    removeStorageSync(key) {
      storage.delete(key)
    },
  }
  return wx
}

// Taro: the same calls, which also return a promise (rejecting on failure); uploadFile's promise is
// also its task (onHeadersReceived).
function asTaro(wx) {
  const taro = { calls: wx.calls, storage: wx.storage }
  for (const name of ['login', 'request', 'uploadFile']) {
    taro[name] = (options = {}) => {
      let task
      const promise = new Promise((resolve, reject) => {
        task = wx[name]({
          ...options,
          success: (res) => { options.success && options.success(res); resolve(res) },
          fail: (err) => { options.fail && options.fail(err); reject(err) },
        })
      })
      if (task && task.onHeadersReceived) promise.onHeadersReceived = (listener) => task.onHeadersReceived(listener)
      return promise
    }
  }
  for (const name of ['connectSocket', 'getStorageSync', 'setStorageSync', 'removeStorageSync']) {
    taro[name] = (...args) => wx[name](...args)
  }
  return taro
}

// uni: callback calls like wx (uni.login takes a `provider`, 'weixin' on WeChat).
function asUni(wx) {
  const uni = Object.create(wx)
  uni.login = (options = {}) => {
    if (options.provider !== undefined && options.provider !== 'weixin') {
      return options.fail && options.fail({ errMsg: 'login:fail provider' })
    }
    return wx.login(options)
  }
  return uni
}

module.exports = { createFakeWx, asTaro, asUni }
