'use strict'

// Loopback ports, deadlines and child processes for the tests: the same rules as
// Tests/integration/conftest.py (free ports never handed out twice, polling against a deadline,
// never a fixed sleep, every child stopped even when a test fails).

const net = require('node:net')
const { spawn } = require('node:child_process')
const fs = require('node:fs')

const handedOut = new Set()

function bindZero() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

// The kernel may give back-to-back binds the same ephemeral port once the first is closed.
async function freePort() {
  for (;;) {
    const port = await bindZero()
    if (!handedOut.has(port)) {
      handedOut.add(port)
      return port
    }
  }
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(condition, { timeout = 30000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout
  for (;;) {
    const value = await condition()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await pause(interval)
  }
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.setTimeout(500)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
  })
}

// Starts `bin args`, stdout/stderr to files; `stop()` sends SIGTERM (the gateway drains), then
// SIGKILL if it has not exited in time.
function startProcess(bin, args, { stdoutPath, stderrPath }) {
  const out = fs.openSync(stdoutPath, 'w')
  const err = fs.openSync(stderrPath, 'w')
  const child = spawn(bin, args, { stdio: ['ignore', out, err] })
  fs.closeSync(out)
  fs.closeSync(err)
  let exited = false
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => { exited = true; resolve({ code, signal }) }))
  child.once('error', () => { exited = true })
  return {
    child,
    exited: () => exited,
    async stop(timeout = 20000) {
      if (exited) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL') }, timeout)
      await exit
      clearTimeout(timer)
    },
  }
}

async function waitUntilListening(proc, port, name, details = () => '') {
  await waitFor(async () => {
    if (proc.exited()) throw new Error(`${name} exited early:\n${details()}`)
    return portOpen(port)
  }, { what: `${name} to accept connections on ${port}` })
}

module.exports = { freePort, waitFor, portOpen, startProcess, waitUntilListening }
