'use strict'

// The legacy service behind the gateway: answers JSON describing what it received (method, path,
// headers, body length), so a test sees exactly what the gateway forwarded.
//   /api/status/<n>  answers status n (429 with Retry-After: 7)
//   /api/own-401     the service's own 401, which is not a token problem
//   .../own-invalid-token  the service's own 401 with `WWW-Authenticate: Bearer error="invalid_token"`
//                    (the service's tokens, not the gateway's)
//   .../forged-mark  the same, also claiming to be the gateway's (`X-Gateway-Error`), which the
//                    gateway must remove
// `received(method, path)` counts the requests that reached the service: a replayed POST shows.

const http = require('node:http')

function startEchoUpstream() {
  const received = new Map()
  const server = http.createServer((req, res) => {
    let bodyLength = 0
    req.on('data', (chunk) => { bodyLength += chunk.length })
    req.on('end', () => {
      const path = req.url.split('?')[0]
      received.set(`${req.method} ${path}`, (received.get(`${req.method} ${path}`) || 0) + 1)
      let status = 200
      const headers = { 'Content-Type': 'application/json' }
      const statusMatch = /^\/api\/status\/(\d{3})$/.exec(path)
      if (statusMatch) status = Number(statusMatch[1])
      if (status === 429) headers['Retry-After'] = '7'
      if (path === '/api/own-401') status = 401
      if (path.endsWith('/own-invalid-token') || path.endsWith('/forged-mark')) {
        status = 401
        headers['WWW-Authenticate'] = 'Bearer error="invalid_token", error_description="the service refused it"'
        if (path.endsWith('/forged-mark')) headers['X-Gateway-Error'] = 'invalid_token'
        res.writeHead(status, headers)
        res.end(JSON.stringify({ error: 'invalid_token', error_description: 'the service refused it' }))
        return
      }
      const body = JSON.stringify({ method: req.method, path, url: req.url, headers: req.headers, bodyLength })
      res.writeHead(status, headers)
      res.end(body)
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve({
        url: `http://127.0.0.1:${port}`,
        received: (method, path) => received.get(`${method} ${path}`) || 0,
        stop: () => new Promise((done) => {
          server.closeAllConnections()
          server.close(() => done())
        }),
      })
    })
  })
}

module.exports = { startEchoUpstream }
