'use strict'

// The legacy service behind the gateway: answers JSON describing what it received (method, path,
// headers, body length), so a test sees exactly what the gateway forwarded.
//   /api/status/<n>  answers status n (429 with Retry-After: 7)
//   /api/own-401     the service's own 401, which is not a token problem

const http = require('node:http')

function startEchoUpstream() {
  const server = http.createServer((req, res) => {
    let bodyLength = 0
    req.on('data', (chunk) => { bodyLength += chunk.length })
    req.on('end', () => {
      const path = req.url.split('?')[0]
      let status = 200
      const headers = { 'Content-Type': 'application/json' }
      const statusMatch = /^\/api\/status\/(\d{3})$/.exec(path)
      if (statusMatch) status = Number(statusMatch[1])
      if (status === 429) headers['Retry-After'] = '7'
      if (path === '/api/own-401') status = 401
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
        stop: () => new Promise((done) => {
          server.closeAllConnections()
          server.close(() => done())
        }),
      })
    })
  })
}

module.exports = { startEchoUpstream }
