'use strict'

// The real thing: `gateway mock-wechat` (the WeChat simulator), an echo upstream and
// `gateway serve` on loopback, configured like Tests/integration/wechat_simulator.py does.
// Refreshes and logins are counted from the gateway's own access log (one JSON line per request
// on stdout), never from inside the library under test.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const { freePort, startProcess, waitUntilListening } = require('./processes')
const { startEchoUpstream } = require('./echo-upstream')

const REPO = path.resolve(__dirname, '..', '..', '..')
const GATEWAY_BIN = process.env.GATEWAY_BIN || path.join(REPO, '.build', 'debug', 'gateway')
const APPID = 'wx00000000000c1e47'
const APP_SECRET = 'client-library-test-app-secret'
const TOKEN_SECRET = 'client-library-test-secret-0123456789abcdef-xyz'

function readAccessLog(file) {
  let text = ''
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (_) {
    return []
  }
  const lines = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      lines.push(JSON.parse(line))
    } catch (_) { /* a line still being written */ }
  }
  return lines
}

function httpGet(port, target) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: target, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode, body }))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
  })
}

async function startGatewayStack({ accessTtl = '15m', leeway = '0s' } = {}) {
  if (!fs.existsSync(GATEWAY_BIN)) throw new Error(`build the gateway first: ${GATEWAY_BIN} is missing`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-client-'))
  const stoppers = []
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => {})
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    const echo = await startEchoUpstream()
    stoppers.push(echo.stop)

    const simPort = await freePort()
    const sim = startProcess(GATEWAY_BIN, ['mock-wechat', '--listen', `127.0.0.1:${simPort}`, '--appid', APPID, '--secret', APP_SECRET],
      { stdoutPath: path.join(dir, 'sim.stdout'), stderrPath: path.join(dir, 'sim.stderr') })
    stoppers.push(() => sim.stop(10000))
    await waitUntilListening(sim, simPort, 'mock-wechat', () => fs.readFileSync(path.join(dir, 'sim.stderr'), 'utf8'))

    const port = await freePort()
    const adminPort = await freePort()
    const config = path.join(dir, 'gateway.conf')
    fs.writeFileSync(config, [
      '[server]',
      `listen = "127.0.0.1:${port}"`,
      `admin_listen = "127.0.0.1:${adminPort}"`,
      '',
      '[wechat]',
      `api_base = "http://127.0.0.1:${simPort}"`,
      '',
      '[[wechat.apps]]',
      `appid = "${APPID}"`,
      `secret = "${APP_SECRET}"`,
      '',
      '[tokens]',
      'algorithm = "HS256"',
      `secret = "${TOKEN_SECRET}"`,
      `access_ttl = "${accessTtl}"`,
      `leeway = "${leeway}"`,
      '',
      '[store]',
      `url = "sqlite://${dir}/g.db"`,
      '',
      '[rate_limit]',
      'auth_per_minute = 100000',
      'auth_burst = 100000',
      '',
      '[[routes]]',
      'prefix = "/api/"',
      `upstreams = ["${echo.url}"]`,
      '',
    ].join('\n'))
    const stdoutPath = path.join(dir, 'gateway.stdout')
    const stderrPath = path.join(dir, 'gateway.stderr')
    const gateway = startProcess(GATEWAY_BIN, ['serve', '--config', config], { stdoutPath, stderrPath })
    stoppers.push(() => gateway.stop(20000))
    const details = () => fs.readFileSync(stderrPath, 'utf8')
    await waitUntilListening(gateway, port, 'gateway', details)
    await waitUntilListening(gateway, adminPort, 'gateway admin', details)

    const stack = {
      baseURL: `http://127.0.0.1:${port}`,
      port,
      simPort,
      appid: APPID,
      dir,
      accessLog: () => readAccessLog(stdoutPath),
      // How many `method path` requests reached the upstream (a replay shows as a second one).
      upstreamReceived: echo.received,
      metrics: async () => (await httpGet(adminPort, '/metrics')).body,
      sessionKey: async (openid) => {
        const answer = await httpGet(simPort, `/__sim/session_key?openid=${encodeURIComponent(openid)}`)
        return JSON.parse(answer.body).session_key
      },
      // Stops only the gateway process (for "gateway down" tests); stop() still cleans up the rest.
      stopGateway: () => gateway.stop(20000),
      stop: stopAll,
    }
    return stack
  } catch (error) {
    await stopAll()
    throw error
  }
}

module.exports = { startGatewayStack, GATEWAY_BIN, APPID, REPO, readAccessLog }
