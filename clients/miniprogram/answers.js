'use strict'

// Reading the gateway's answers: URLs, headers in any case, and its error bodies
// ({"error", "error_description", "request_id"}, RFC 6749 section 5.2 / RFC 6750 section 3).

const { GatewayError } = require('./errors')

// A relative URL goes to the gateway. An absolute one is accepted only on the gateway's own
// origin: the bearer token must never be sent to another host.
function resolveURL(baseURL, url) {
  if (typeof url !== 'string' || url === '') throw new TypeError('url must be a non-empty string')
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    if (url === baseURL || url.startsWith(baseURL + '/') || url.startsWith(baseURL + '?')) return url
    throw new TypeError(`refusing to send the gateway token outside ${baseURL}: ${url}`)
  }
  return baseURL + (url.startsWith('/') ? url : '/' + url)
}

// https → wss, http → ws: connectSocket wants a WebSocket URL on the gateway's host.
function socketURL(baseURL, url) {
  const resolved = /^wss?:/i.test(url) ? url.replace(/^ws/i, 'http') : resolveURL(baseURL, url)
  if (!resolved.startsWith(baseURL)) throw new TypeError(`refusing to send the gateway token outside ${baseURL}`)
  return resolved.replace(/^http/i, 'ws')
}

function headerValue(header, name) {
  if (!header) return undefined
  const wanted = name.toLowerCase()
  for (const key of Object.keys(header)) {
    if (key.toLowerCase() === wanted) return header[key]
  }
  return undefined
}

// The caller's headers with any Authorization of theirs removed, so exactly one token is sent.
function withBearer(header, accessToken) {
  const out = {}
  for (const key of Object.keys(header || {})) {
    if (key.toLowerCase() !== 'authorization') out[key] = header[key]
  }
  out.Authorization = `Bearer ${accessToken}`
  return out
}

// uploadFile answers a string; request answers parsed JSON when it was JSON.
function bodyObject(data) {
  if (data && typeof data === 'object') return data
  if (typeof data === 'string' && data.startsWith('{')) {
    try {
      return JSON.parse(data)
    } catch (_) {
      return null
    }
  }
  return null
}

// A 401 the gateway made because the token is bad (expired, revoked, malformed). An upstream's
// own 401 without `invalid_token` is the application's business and is returned untouched.
function isInvalidToken(answer) {
  if (!answer || answer.statusCode !== 401) return false
  const challenge = String(headerValue(answer.header, 'WWW-Authenticate') || '')
  if (/error="invalid_token"/.test(challenge)) return true
  const body = bodyObject(answer.data)
  return Boolean(body && body.error === 'invalid_token')
}

function retryAfterSeconds(answer) {
  const value = headerValue(answer.header, 'Retry-After')
  if (value === undefined) return undefined
  const seconds = Number(value)
  return Number.isFinite(seconds) ? seconds : undefined
}

function errorFromAnswer(answer, what, ErrorClass = GatewayError) {
  const body = bodyObject(answer.data) || {}
  const code = typeof body.error === 'string' ? body.error : `http_${answer.statusCode}`
  const fields = {
    code,
    statusCode: answer.statusCode,
    requestId: body.request_id || headerValue(answer.header, 'X-Request-Id'),
    description: body.error_description,
    retryAfter: retryAfterSeconds(answer),
  }
  const detail = fields.description ? `: ${fields.description}` : ''
  return new ErrorClass(`${what} failed with ${answer.statusCode} ${code}${detail}`, fields)
}

module.exports = { resolveURL, socketURL, headerValue, withBearer, bodyObject, isInvalidToken, errorFromAnswer }
