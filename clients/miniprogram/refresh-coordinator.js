'use strict'

// One token operation (a login, or a renewal: refresh, falling back to login) at a time, and
// every caller that wants the same operation joins the one already queued or running instead of
// starting its own. This is what keeps ten requests failing at once from sending ten refreshes
// with one rotating refresh token: the second would be a reuse, and the gateway answers a reuse
// by revoking the whole session (RFC 9700 section 4.14.2).
//
// `generation` changes on logout. An operation started before a logout must not store what it
// gets afterwards, or a token would survive the logout; it checks `isCurrent` before saving.

class RefreshCoordinator {
  constructor() {
    this.tail = null // { kind, generation, promise } of the newest queued or running operation
    this.generation = 0
  }

  run(kind, task) {
    const generation = this.generation
    if (this.tail && this.tail.kind === kind && this.tail.generation === generation) {
      return this.tail.promise
    }
    // Serialised behind whatever is queued: a renewal waits for a login in flight and then sees
    // the new session, rather than racing it with the old refresh token.
    const previous = this.tail ? this.tail.promise.catch(() => {}) : Promise.resolve()
    const entry = { kind, generation, promise: null }
    entry.promise = previous.then(() => task(generation))
    const done = () => {
      if (this.tail === entry) this.tail = null
    }
    entry.promise.then(done, done)
    this.tail = entry
    return entry.promise
  }

  // Resolves once nothing is queued or running (failures included): a request waits here for a
  // login in flight instead of going out without a token.
  async idle() {
    while (this.tail) {
      await this.tail.promise.catch(() => {})
    }
  }

  invalidate() {
    this.generation += 1
  }

  isCurrent(generation) {
    return generation === this.generation
  }
}

module.exports = { RefreshCoordinator }
