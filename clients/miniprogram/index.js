'use strict'

// The mini-program side of the gateway's login flow: wx.login → /auth/login, tokens kept in
// storage, `Authorization: Bearer` on every call, refresh before expiry, recovery from a 401.
// Nothing here logs: tokens must never reach a console that ends up in a bug report.

const { createPlatform, errMsgOf } = require('./platform')
const { SessionStore, sessionFromTokenAnswer } = require('./session-store')
const { RefreshCoordinator } = require('./refresh-coordinator')
const answers = require('./answers')
const { GatewayError, GatewayAuthError, GatewayNetworkError, GatewayLoginError } = require('./errors')

function createGatewayClient(options) {
  const base = answers.parseBase(options && options.baseURL)
  if (!base) {
    throw new TypeError('createGatewayClient: baseURL must be an http(s) origin, optionally with a path ' +
      '(no userinfo, query or fragment)')
  }
  const baseURL = base.text
  const platform = createPlatform(options.platform)
  const store = new SessionStore(platform, options.storageKey || 'gateway.session')
  const leeway = options.refreshLeeway === undefined ? 60 : Number(options.refreshLeeway)
  const now = typeof options.now === 'function' ? options.now : Date.now
  const autoLogin = options.autoLogin !== false
  const timeout = options.timeout
  const coordinator = new RefreshCoordinator()

  // -- transport -----------------------------------------------------------------------------

  // Any HTTP answer resolves, as wx.request does; only "no answer at all" rejects.
  async function send(callName, callOptions) {
    const withTimeout = timeout !== undefined && callOptions.timeout === undefined
      ? { ...callOptions, timeout } : callOptions
    try {
      return await platform[callName](withTimeout)
    } catch (failure) {
      if (failure instanceof TypeError) throw failure
      throw new GatewayNetworkError(errMsgOf(failure), failure)
    }
  }

  function postJSON(path, data, accessToken) {
    const header = { 'Content-Type': 'application/json' }
    return send('request', {
      url: baseURL + path,
      method: 'POST',
      data,
      header: accessToken ? answers.withBearer(header, accessToken) : header,
    })
  }

  // -- token operations (run through the coordinator only) -----------------------------------

  function commit(session, generation) {
    if (!coordinator.isCurrent(generation)) {
      // Logged out while this was in flight: the new tokens must not outlive the logout.
      postJSON('/auth/revoke', { token: session.refreshToken }).catch(() => {})
      throw new GatewayAuthError('logged out while the login or refresh was in flight', { code: 'logged_out' })
    }
    store.save(session)
    return session
  }

  async function loginOnce(generation) {
    let code
    try {
      const result = await platform.login()
      code = result && result.code
    } catch (failure) {
      throw new GatewayLoginError(errMsgOf(failure), failure)
    }
    if (typeof code !== 'string' || code === '') throw new GatewayLoginError('the answer has no code')
    const body = { code }
    if (options.appid) body.appid = options.appid
    const issuedAt = now()
    const answer = await postJSON('/auth/login', body)
    if (answer.statusCode !== 200) {
      // 400 invalid_grant / 403 access_denied: the user cannot get in this way. 429 and 503 are
      // worth trying later, so they stay plain GatewayErrors with retryAfter.
      const refused = answer.statusCode === 400 || answer.statusCode === 401 || answer.statusCode === 403
      throw answers.errorFromAnswer(answer, 'login', refused ? GatewayAuthError : GatewayError)
    }
    const session = sessionFromTokenAnswer(answers.bodyObject(answer.data) || {}, issuedAt, leeway)
    if (!session) throw new GatewayError('login answer has no usable tokens', { code: 'bad_answer', statusCode: 200 })
    return commit(session, generation)
  }

  // The one renewal of `staleToken`: refresh, and if the gateway refuses the refresh token, one
  // login. Joined by every caller holding the same stale token.
  async function renewOnce(staleToken, generation) {
    const session = store.reload()
    if (session && session.accessToken !== staleToken) return session // already renewed
    if (!session) return loginIfAllowed(generation, 'login_required')
    const issuedAt = now()
    const answer = await postJSON('/auth/token', { grant_type: 'refresh_token', refresh_token: session.refreshToken })
    if (answer.statusCode === 200) {
      const renewed = sessionFromTokenAnswer(answers.bodyObject(answer.data) || {}, issuedAt, leeway)
      if (!renewed) throw new GatewayError('refresh answer has no usable tokens', { code: 'bad_answer', statusCode: 200 })
      return commit(renewed, generation)
    }
    if (answer.statusCode === 400 || answer.statusCode === 401) {
      // Refused (spent, revoked or expired refresh token): the session is over, drop it before
      // anything else can present it again.
      if (coordinator.isCurrent(generation)) store.clear()
      const refusal = answers.errorFromAnswer(answer, 'refresh', GatewayAuthError)
      return loginIfAllowed(generation, refusal)
    }
    // 429, 5xx: the refresh token may still be good. Keep the session, report the failure.
    throw answers.errorFromAnswer(answer, 'refresh')
  }

  function loginIfAllowed(generation, reason) {
    if (autoLogin) return loginOnce(generation)
    if (reason instanceof Error) throw reason
    throw new GatewayAuthError('not logged in (call login() first)', { code: reason })
  }

  function renew(staleToken) {
    return coordinator.run('renew', (generation) => renewOnce(staleToken, generation))
  }

  // A session whose access token is good for now: waits for a login in flight, logs in when
  // there is none (autoLogin), refreshes one that is due. If a due refresh fails for a transient
  // reason and the token has not yet expired, the token is still used.
  async function ensureSession() {
    await coordinator.idle()
    let session = store.reload()
    if (!session) {
      if (!autoLogin) throw new GatewayAuthError('not logged in (call login() first)', { code: 'login_required' })
      return coordinator.run('login', loginOnce)
    }
    if (now() >= session.refreshAt) {
      try {
        session = await renew(session.accessToken)
      } catch (error) {
        const transient = !(error instanceof GatewayAuthError) && !(error instanceof GatewayLoginError)
        // Only the very session that was due: if the renewal dropped it (refresh refused, then
        // the login failed), its token is dead and must not be sent.
        const kept = store.current() && store.current().accessToken === session.accessToken
        if (!transient || !kept || now() >= session.expiresAt) throw error
      }
    }
    return session
  }

  // Sends with the current token; on the gateway's own 401 invalid_token (marked X-Gateway-Error:
  // the request never reached the upstream) renews once (refresh, or login when the refresh is
  // refused) and replays once. A second such 401 is the caller's, typed. Any other answer, an
  // upstream's own 401 included, is returned as it is: the upstream has seen the request, and a
  // POST must not be sent twice.
  async function authorized(perform) {
    let session = await ensureSession()
    let answer = await perform(session.accessToken)
    if (!answers.isGatewayTokenRefusal(answer)) return answer
    session = await renew(session.accessToken)
    answer = await perform(session.accessToken)
    if (answers.isGatewayTokenRefusal(answer)) {
      throw answers.errorFromAnswer(answer, 'request after a token renewal', GatewayAuthError)
    }
    return answer
  }

  async function authEndpoint(path, data) {
    const answer = await authorized((token) => postJSON(path, data, token))
    if (answer.statusCode === 200) return answers.bodyObject(answer.data)
    throw answers.errorFromAnswer(answer, path, answer.statusCode === 401 ? GatewayAuthError : GatewayError)
  }

  // -- public API ----------------------------------------------------------------------------

  return {
    login() {
      return coordinator.run('login', loginOnce).then(publicSession)
    },

    async request(requestOptions) {
      const { url, header, success, fail, complete, ...rest } = requestOptions || {}
      const target = answers.resolveURL(base, url)
      return authorized((token) => send('request', { ...rest, url: target, header: answers.withBearer(header, token) }))
    },

    async uploadFile(uploadOptions) {
      const { url, header, success, fail, complete, ...rest } = uploadOptions || {}
      const target = answers.resolveURL(base, url)
      return authorized((token) => send('uploadFile', { ...rest, url: target, header: answers.withBearer(header, token) }))
    },

    // A promise of the SocketTask: the token may have to be refreshed (or the login finished)
    // before the socket can be opened with it.
    async connectSocket(socketOptions) {
      const { url, header, ...rest } = socketOptions || {}
      const target = answers.socketURL(base, url)
      const session = await ensureSession()
      return platform.connectSocket({ ...rest, url: target, header: answers.withBearer(header, session.accessToken) })
    },

    getPhoneNumber(code) {
      return authEndpoint('/auth/phone', { code })
    },

    userInfo({ encryptedData, iv, rawData, signature } = {}) {
      const data = { encryptedData, iv }
      if (rawData !== undefined) data.rawData = rawData
      if (signature !== undefined) data.signature = signature
      return authEndpoint('/auth/userinfo', data)
    },

    // Storage is cleared before anything goes on the network, and in-flight logins/refreshes
    // are disowned, so no token survives a logout even when the gateway cannot be reached.
    // Resolves { revoked } rather than rejecting: the user is logged out on this device either way.
    async logout() {
      coordinator.invalidate()
      const session = store.reload()
      store.clear()
      if (!session) return { revoked: false }
      try {
        const answer = await postJSON('/auth/logout', null, session.accessToken)
        if (answer.statusCode === 204 || answer.statusCode === 200) return { revoked: true }
        // The access token had expired or was refused: revoking the refresh token ends the
        // same session (RFC 7009).
        const revoke = await postJSON('/auth/revoke', { token: session.refreshToken })
        return { revoked: revoke.statusCode === 200 }
      } catch (_) {
        return { revoked: false }
      }
    },

    session() {
      return publicSession(store.reload())
    },
  }
}

// What the app may see of a session: never the tokens.
function publicSession(session) {
  if (!session) return null
  const view = { openid: session.openid, expiresAt: session.expiresAt }
  if (session.unionid) view.unionid = session.unionid
  return view
}

module.exports = {
  createGatewayClient,
  GatewayError,
  GatewayAuthError,
  GatewayNetworkError,
  GatewayLoginError,
}
