'use strict'

// Unit tests of the session's storage rules alone, on an in-memory platform: the end-to-end
// tests (session.test.js) show a restarted client resumes against the real gateway.

const test = require('node:test')
const assert = require('node:assert/strict')
const { SessionStore, sessionFromTokenAnswer, isSession } = require('../session-store')

function memoryPlatform(initial = {}) {
  const items = { ...initial }
  return {
    items,
    failGet: false,
    failSet: false,
    failRemove: false,
    getItem(key) { if (this.failGet) throw new Error('storage'); return items[key] },
    setItem(key, value) { if (this.failSet) throw new Error('quota'); items[key] = value },
    removeItem(key) { if (this.failRemove) throw new Error('storage'); delete items[key] },
  }
}

const answer = { access_token: 'a1', refresh_token: 'r1', expires_in: 900, refresh_expires_in: 86400, openid: 'o1' }

test('a token answer becomes a session whose times start when the request was sent', () => {
  const session = sessionFromTokenAnswer(answer, 1_000_000, 60)
  assert.deepEqual(session, {
    v: 1,
    accessToken: 'a1',
    refreshToken: 'r1',
    expiresAt: 1_000_000 + 900_000,
    refreshAt: 1_000_000 + 840_000,
    openid: 'o1',
    refreshExpiresAt: 1_000_000 + 86_400_000,
  })
  assert.equal(isSession(session), true)
})

test('the refresh leeway is never more than half a short lifetime, and never negative', () => {
  assert.equal(sessionFromTokenAnswer({ ...answer, expires_in: 20 }, 0, 60).refreshAt, 10_000)
  assert.equal(sessionFromTokenAnswer(answer, 0, -5).refreshAt, 900_000)
})

test('unionid is kept when the gateway gives it', () => {
  assert.equal(sessionFromTokenAnswer({ ...answer, unionid: 'u1' }, 0, 60).unionid, 'u1')
  assert.equal('unionid' in sessionFromTokenAnswer(answer, 0, 60), false)
})

test('an answer without tokens or a positive lifetime is no session', () => {
  assert.equal(sessionFromTokenAnswer({ ...answer, access_token: undefined }, 0, 60), null)
  assert.equal(sessionFromTokenAnswer({ ...answer, refresh_token: 5 }, 0, 60), null)
  assert.equal(sessionFromTokenAnswer({ ...answer, expires_in: 0 }, 0, 60), null)
  assert.equal(sessionFromTokenAnswer({ ...answer, expires_in: 'soon' }, 0, 60), null)
})

test('stored values of another shape or version are ignored', () => {
  const valid = sessionFromTokenAnswer(answer, 0, 60)
  for (const stored of [null, '', 'text', { ...valid, v: 2 }, { ...valid, accessToken: '' }, { ...valid, expiresAt: '1' }]) {
    const store = new SessionStore(memoryPlatform({ k: stored }), 'k')
    assert.equal(store.current(), null, JSON.stringify(stored))
  }
  assert.deepEqual(new SessionStore(memoryPlatform({ k: valid }), 'k').current(), valid)
})

test('save writes storage, so a second store on the same key resumes the session', () => {
  const platform = memoryPlatform()
  const session = sessionFromTokenAnswer(answer, 0, 60)
  new SessionStore(platform, 'k').save(session)
  assert.deepEqual(new SessionStore(platform, 'k').current(), session)
})

test('reload sees what another instance rotated meanwhile', () => {
  const platform = memoryPlatform()
  const mine = new SessionStore(platform, 'k')
  const other = new SessionStore(platform, 'k')
  mine.save(sessionFromTokenAnswer(answer, 0, 60))
  const rotated = sessionFromTokenAnswer({ ...answer, access_token: 'a2', refresh_token: 'r2' }, 1, 60)
  other.save(rotated)
  assert.equal(mine.current().refreshToken, 'r1')
  assert.deepEqual(mine.reload(), rotated)
})

test('storage that throws on write keeps the session in memory; on read, the memory copy stands', () => {
  const platform = memoryPlatform()
  const store = new SessionStore(platform, 'k')
  const session = sessionFromTokenAnswer(answer, 0, 60)
  platform.failSet = true
  store.save(session)
  assert.deepEqual(store.current(), session)
  platform.failGet = true
  assert.deepEqual(store.reload(), session)
})

test('clear forgets the session in memory and storage, blanking the key when removal throws', () => {
  const platform = memoryPlatform()
  const store = new SessionStore(platform, 'k')
  store.save(sessionFromTokenAnswer(answer, 0, 60))
  store.clear()
  assert.equal(store.current(), null)
  assert.equal('k' in platform.items, false)

  store.save(sessionFromTokenAnswer(answer, 0, 60))
  platform.failRemove = true
  store.clear()
  assert.equal(store.current(), null)
  assert.equal(platform.items.k, '')
  assert.equal(new SessionStore(platform, 'k').current(), null)
})
