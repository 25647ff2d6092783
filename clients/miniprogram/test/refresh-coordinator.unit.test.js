'use strict'

// Unit tests of the single-flight rule alone, without a gateway: the end-to-end tests
// (refresh.test.js, recovery.test.js) show it holds against the real server; these show why.

const test = require('node:test')
const assert = require('node:assert/strict')
const { RefreshCoordinator } = require('../refresh-coordinator')

function deferred() {
  let resolve, reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

test('callers asking for the same operation while it runs share one run', async () => {
  const coordinator = new RefreshCoordinator()
  const gate = deferred()
  let runs = 0
  const task = async () => { runs += 1; await gate.promise; return 'tokens' }
  const answers = [coordinator.run('renew', task), coordinator.run('renew', task), coordinator.run('renew', task)]
  gate.resolve()
  assert.deepEqual(await Promise.all(answers), ['tokens', 'tokens', 'tokens'])
  assert.equal(runs, 1)
})

test('once an operation has finished, the next call runs it again', async () => {
  const coordinator = new RefreshCoordinator()
  let runs = 0
  const task = async () => { runs += 1; return runs }
  assert.equal(await coordinator.run('renew', task), 1)
  assert.equal(await coordinator.run('renew', task), 2)
})

test('a failure reaches every caller that joined, and the next call starts afresh', async () => {
  const coordinator = new RefreshCoordinator()
  const gate = deferred()
  let runs = 0
  const failing = async () => { runs += 1; await gate.promise; throw new Error('refused') }
  const first = coordinator.run('renew', failing)
  const second = coordinator.run('renew', failing)
  gate.resolve()
  await assert.rejects(first, /refused/)
  await assert.rejects(second, /refused/)
  assert.equal(await coordinator.run('renew', async () => { runs += 1; return 'ok' }), 'ok')
  assert.equal(runs, 2)
})

test('a different operation waits for the one in flight instead of racing it', async () => {
  const coordinator = new RefreshCoordinator()
  const gate = deferred()
  const order = []
  const login = coordinator.run('login', async () => { order.push('login start'); await gate.promise; order.push('login end') })
  const renew = coordinator.run('renew', async () => { order.push('renew') })
  await Promise.resolve()
  assert.deepEqual(order, ['login start'])
  gate.resolve()
  await Promise.all([login, renew])
  assert.deepEqual(order, ['login start', 'login end', 'renew'])
})

test('a failed operation does not stop the one queued behind it', async () => {
  const coordinator = new RefreshCoordinator()
  const login = coordinator.run('login', async () => { throw new Error('no code') })
  const renew = coordinator.run('renew', async () => 'renewed')
  await assert.rejects(login, /no code/)
  assert.equal(await renew, 'renewed')
})

test('after a logout (invalidate) a new call does not join the old operation, and the old one is no longer current', async () => {
  const coordinator = new RefreshCoordinator()
  const gate = deferred()
  let oldGeneration = null
  const old = coordinator.run('renew', async (generation) => { oldGeneration = generation; await gate.promise; return 'old' })
  coordinator.invalidate()
  const fresh = coordinator.run('renew', async (generation) => {
    assert.ok(coordinator.isCurrent(generation))
    return 'fresh'
  })
  gate.resolve()
  assert.equal(await old, 'old')
  assert.equal(await fresh, 'fresh')
  assert.equal(coordinator.isCurrent(oldGeneration), false)
})

test('idle() resolves only once nothing is queued or running, failures included', async () => {
  const coordinator = new RefreshCoordinator()
  await coordinator.idle() // nothing queued: resolves at once
  const gate = deferred()
  let finished = false
  coordinator.run('login', async () => { await gate.promise; throw new Error('refused') }).catch(() => {})
  coordinator.run('renew', async () => { finished = true })
  const waiting = coordinator.idle().then(() => finished)
  gate.resolve()
  assert.equal(await waiting, true)
  assert.equal(coordinator.tail, null)
})
