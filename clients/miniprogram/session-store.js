'use strict'

// The session: tokens plus what the app may read about them. Storage (setStorageSync) is the
// source of truth so that a restarted mini-program, or a second client instance on the same key,
// resumes it; a copy is kept in memory in case storage throws (quota, private mode).

const VERSION = 1

function isSession(value) {
  return Boolean(value) && value.v === VERSION &&
    typeof value.accessToken === 'string' && value.accessToken !== '' &&
    typeof value.refreshToken === 'string' && value.refreshToken !== '' &&
    typeof value.expiresAt === 'number' && typeof value.refreshAt === 'number'
}

// `issuedAt` is the local time the token request was sent, not answered: the token's clock
// started no later than that, so expiry is never placed too late. The refresh moment leaves
// `leeway` seconds, but never more than half the lifetime, so a short-lived token does not turn
// every request into a refresh.
function sessionFromTokenAnswer(answer, issuedAt, leewaySeconds) {
  const lifetime = Number(answer.expires_in)
  if (typeof answer.access_token !== 'string' || typeof answer.refresh_token !== 'string' ||
      !(lifetime > 0)) {
    return null
  }
  const leeway = Math.min(Math.max(0, leewaySeconds), lifetime / 2)
  const session = {
    v: VERSION,
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token,
    expiresAt: issuedAt + lifetime * 1000,
    refreshAt: issuedAt + (lifetime - leeway) * 1000,
    openid: answer.openid,
  }
  if (Number(answer.refresh_expires_in) > 0) {
    session.refreshExpiresAt = issuedAt + Number(answer.refresh_expires_in) * 1000
  }
  if (answer.unionid) session.unionid = answer.unionid
  return session
}

class SessionStore {
  constructor(platform, key) {
    this.platform = platform
    this.key = key
    this.memory = null
    this.reload()
  }

  // Re-reads storage: another client instance may have rotated the tokens meanwhile.
  reload() {
    let stored = null
    try {
      stored = this.platform.getItem(this.key)
    } catch (_) {
      return this.memory
    }
    this.memory = isSession(stored) ? stored : null
    return this.memory
  }

  current() {
    return this.memory
  }

  // Memory first, then storage: from this line on nothing in this instance can read the old
  // tokens, even if storage throws.
  save(session) {
    this.memory = session
    try {
      this.platform.setItem(this.key, session)
    } catch (_) {
      // Kept in memory for this run; the next launch logs in again.
    }
  }

  clear() {
    this.memory = null
    try {
      this.platform.removeItem(this.key)
    } catch (_) {
      try { this.platform.setItem(this.key, '') } catch (__) { /* nothing more to try */ }
    }
  }
}

module.exports = { SessionStore, sessionFromTokenAnswer, isSession }
