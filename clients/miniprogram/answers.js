'use strict'

// Reading the gateway's answers: URLs, headers in any case, and its error bodies
// ({"error", "error_description", "request_id"}, RFC 6749 section 5.2 / RFC 6750 section 3).

const { GatewayError } = require('./errors')

// The schemes a token may travel on, with their default ports: http(s) for requests, ws(s) for sockets.
const DEFAULT_PORTS = { http: '80', https: '443', ws: '80', wss: '443' }
const SOCKET_SCHEME = { http: 'ws', https: 'wss' }
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i

// `scheme://host[:port]` followed by nothing or by a path, query or fragment, read strictly: a host
// of letters, digits, dots and hyphens (or an IPv6 literal), no userinfo, no percent-escapes, no
// backslash, no whitespace, no trailing dot. What the platform's own URL parser might read
// differently (`gw.example.com@evil.cn`, `gw.example.com\@evil.cn`, `gw.example.com%2eevil.cn`) is
// refused rather than guessed at. The mini-program runtime has no WHATWG `URL` to lean on.
function parseOrigin(url) {
  const parts = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([/?#][\s\S]*)?$/i.exec(url)
  if (!parts) return null
  const scheme = parts[1].toLowerCase()
  if (!Object.prototype.hasOwnProperty.call(DEFAULT_PORTS, scheme)) return null
  const authority = /^([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?$/i.exec(parts[2])
  if (!authority) return null
  const port = authority[2] === undefined ? DEFAULT_PORTS[scheme] : String(Number(authority[2]))
  if (Number(port) < 1 || Number(port) > 65535) return null
  return { scheme, host: authority[1].toLowerCase(), port, rest: parts[3] || '' }
}

// The client's base URL: an http(s) origin, optionally with a path; null for anything else.
function parseBase(baseURL) {
  if (typeof baseURL !== 'string') return null
  const origin = parseOrigin(baseURL)
  if (!origin || !SOCKET_SCHEME[origin.scheme] || /[?#]/.test(origin.rest)) return null
  return { ...origin, text: origin.scheme + baseURL.slice(origin.scheme.length).replace(/\/+$/, '') }
}

function refuse(base, url) {
  return new TypeError(`refusing to send the gateway token outside ${base.text}: ${url}`)
}

// Where a request (or, with `socket`, a WebSocket) with the gateway's token may go: a relative URL
// is a path on the base URL; an absolute one must be on the gateway's origin exactly (scheme, host
// in any case, port with the scheme's default filled in). A socket takes ws/wss for http/https, or
// the http(s) URL itself, which is then turned into ws(s).
function target(base, url, socket) {
  if (typeof url !== 'string' || url === '') throw new TypeError('url must be a non-empty string')
  if (!HAS_SCHEME.test(url)) return base.text + (url.startsWith('/') ? url : '/' + url)
  const origin = parseOrigin(url)
  const schemes = socket ? [base.scheme, SOCKET_SCHEME[base.scheme]] : [base.scheme]
  if (!origin || !schemes.includes(origin.scheme) || origin.host !== base.host || origin.port !== base.port) {
    throw refuse(base, url)
  }
  return origin.scheme + url.slice(origin.scheme.length) // the scheme in lower case, the rest as given
}

function resolveURL(base, url) {
  return target(base, url, false)
}

// https → wss, http → ws: connectSocket wants a WebSocket URL on the gateway's origin.
function socketURL(base, url) {
  const resolved = target(base, url, true)
  const scheme = /^[a-z]+/i.exec(resolved)[0]
  return (SOCKET_SCHEME[scheme.toLowerCase()] || scheme) + resolved.slice(scheme.length)
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

// The field the gateway puts on every answer it makes itself (`X-Gateway-Error: <code>`) and
// removes from every upstream answer, so an upstream cannot send it (docs/configuration.md).
const GATEWAY_MARK = 'X-Gateway-Error'

// A 401 the gateway itself made because the token is bad (expired, revoked, malformed): the
// request never reached the upstream, so it can be sent again once the token is renewed. Any other
// 401, even one saying `invalid_token` in its challenge or body, is the upstream's own answer: the
// request may have had its effect, and it goes back to the caller untouched.
function isGatewayTokenRefusal(answer) {
  if (!answer || answer.statusCode !== 401) return false
  return String(headerValue(answer.header, GATEWAY_MARK) || '').trim() === 'invalid_token'
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

module.exports = {
  parseBase, resolveURL, socketURL, headerValue, withBearer, bodyObject, isGatewayTokenRefusal, errorFromAnswer,
}
