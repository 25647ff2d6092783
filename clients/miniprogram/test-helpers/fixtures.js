'use strict'

// Shared test plumbing: a client on a fake wx against a stack, and a way to read exactly the
// access-log lines one test caused once they have all been written.

const http = require('node:http')
const { createGatewayClient } = require('..')
const { createFakeWx } = require('./fake-platform')
const { waitFor } = require('./processes')

const STORAGE_KEY = 'gateway.session'
let users = 0

function newClient(stack, { user, wx, ...options } = {}) {
  users += 1
  const platform = wx || createFakeWx({ user: user || `user${process.pid}-${users}` })
  const gw = createGatewayClient({ baseURL: stack.baseURL, appid: stack.appid, platform, refreshLeeway: 0, ...options })
  return { gw, wx: platform }
}

function stored(wx, key = STORAGE_KEY) {
  const value = wx.getStorageSync(key)
  return value === '' ? null : value
}

// Marks the calls the platforms have made so far; `lines()` later returns the access-log line
// of every HTTP call they made since, in the order the client sent them. It waits until each
// call is answered and its line (found by the X-Request-Id the gateway answered) is written, so
// lines of earlier tests or still-unwritten lines can never be miscounted. Calls that got no
// answer (network failures) have no line.
function mark(stack, ...platforms) {
  const before = platforms.map((p) => p.calls.length)
  const since = () => platforms.flatMap((p, i) => p.calls.slice(before[i]))
    .filter((c) => c.api === 'request' || c.api === 'uploadFile')
  return {
    async lines() {
      await waitFor(() => since().every((c) => c.settled), { what: 'every call to be answered' })
      const ids = since().map((c) => c.requestId).filter(Boolean)
      const byId = await waitFor(() => {
        const found = new Map(stack.accessLog().map((line) => [line.request_id, line]))
        return ids.every((id) => found.has(id)) && found
      }, { what: 'the access-log lines of every call' })
      return ids.map((id) => byId.get(id))
    },
  }
}

const count = (lines, method, path, status) =>
  lines.filter((l) => l.method === method && l.path === path && (status === undefined || l.status === status)).length

// "METHOD path status" per line: what the transcript and sequence assertions read.
const summary = (lines) => lines.map((l) => `${l.method} ${l.path} ${l.status}`)

// A direct call to the gateway, as another device or a test probe would make it.
function direct(stack, method, target, { token, json } = {}) {
  return new Promise((resolve, reject) => {
    const body = json === undefined ? null : Buffer.from(JSON.stringify(json))
    const headers = {}
    if (token) headers.Authorization = `Bearer ${token}`
    if (body) { headers['Content-Type'] = 'application/json'; headers['Content-Length'] = String(body.length) }
    const req = http.request(`${stack.baseURL}${target}`, { method, headers, timeout: 10000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => {
        let data = text
        try { data = JSON.parse(text) } catch (_) { /* not JSON */ }
        resolve({ statusCode: res.statusCode, header: res.headers, data })
      })
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end(body || undefined)
  })
}

module.exports = { newClient, stored, mark, count, summary, direct, STORAGE_KEY }
