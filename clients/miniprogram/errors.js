'use strict'

// Typed errors, so a caller can tell "log the user in" apart from "try again later" without
// parsing messages. None of them ever carries a token: only the gateway's error code, its
// description and the request id, which is what support needs to find the access-log line.

class GatewayError extends Error {
  constructor(message, fields = {}) {
    super(message)
    this.name = 'GatewayError'
    this.code = fields.code || 'gateway_error' // the gateway's `error` field when it sent one
    this.statusCode = fields.statusCode // undefined when no HTTP answer arrived
    this.requestId = fields.requestId // the gateway's request_id / X-Request-Id
    this.description = fields.description // the gateway's error_description
    this.retryAfter = fields.retryAfter // seconds, from Retry-After on a 429 / 503
  }
}

// The gateway refused the caller's identity: its second 401 after a refresh and a replay, a login
// code it rejected, or a request made after logout with autoLogin off. Logging in again (with
// the user's consent) is the only way forward.
class GatewayAuthError extends GatewayError {
  constructor(message, fields) {
    super(message, fields)
    this.name = 'GatewayAuthError'
  }
}

// No HTTP answer at all (DNS, TLS, connection refused, timeout). `errMsg` is the platform's own
// text, unchanged. The session is kept: the tokens may be perfectly good.
class GatewayNetworkError extends GatewayError {
  constructor(errMsg, cause) {
    super(`network error: ${errMsg}`, { code: 'network_error' })
    this.name = 'GatewayNetworkError'
    this.errMsg = errMsg
    this.cause = cause
  }
}

// wx.login itself failed (no code): nothing was sent to the gateway.
class GatewayLoginError extends GatewayError {
  constructor(errMsg, cause) {
    super(`wx.login failed: ${errMsg}`, { code: 'wx_login_failed' })
    this.name = 'GatewayLoginError'
    this.errMsg = errMsg
    this.cause = cause
  }
}

module.exports = { GatewayError, GatewayAuthError, GatewayNetworkError, GatewayLoginError }
