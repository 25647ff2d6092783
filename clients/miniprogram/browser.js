'use strict'

// The browser (an H5 page, inside WeChat or not, and a website) behind the same platform interface
// as wx, uni and Taro, so the H5 build uses the same createGatewayClient, the same storage rules and
// the same single-flight refresh as the mini-program:
//
// - request: `fetch` (or the `request` of uni-app's / Taro's H5 build, passed in);
// - storage: `localStorage`, every key under a prefix of its own;
// - login: WeChat's web authorization. The first call sends the browser to WeChat's authorize page
//   (official account pages: /connect/oauth2/authorize with snsapi_base or snsapi_userinfo; websites:
//   /connect/qrconnect with snsapi_login), after storing a random `state`. WeChat sends the browser
//   back with `code` and `state`; the next call checks that `state` against the stored one, once, and
//   only then hands the code on to POST /auth/login. A callback whose state is missing, forged or
//   already used is refused and its code never sent: it may be an attacker's code, planted to log the
//   victim into the attacker's account (login CSRF, RFC 6749 section 10.12).

const { createGatewayClient } = require('./index')

const DEFAULT_OPEN_BASE = 'https://open.weixin.qq.com'
const DEFAULT_PREFIX = 'wechat-gateway:'
const STATE_KEY = 'oauth.state'

// What each web app kind asks WeChat for. The scope decides what the gateway can read: snsapi_base
// the openid silently, snsapi_userinfo (after the user agrees) the profile too, snsapi_login the
// website's QR login.
const KINDS = {
  officialaccount: { path: '/connect/oauth2/authorize', scopes: ['snsapi_base', 'snsapi_userinfo'] },
  website: { path: '/connect/qrconnect', scopes: ['snsapi_login'] },
}

function failure(errMsg, code) {
  const error = new Error(errMsg)
  error.errMsg = errMsg
  if (code) error.code = code
  return error
}

// WeChat reads these parameters in this order; `#wechat_redirect` must end the URL.
function authorizeURL({ openBase = DEFAULT_OPEN_BASE, kind = 'officialaccount', appid, redirectURI, scope, state }) {
  const spec = KINDS[kind]
  const chosen = scope || spec.scopes[0]
  const query = [
    ['appid', appid], ['redirect_uri', redirectURI], ['response_type', 'code'], ['scope', chosen], ['state', state],
  ].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')
  return `${openBase.replace(/\/+$/, '')}${spec.path}?${query}#wechat_redirect`
}

// The callback's `code` and `state` from a URL, and the same URL without them (what the address bar
// shows afterwards, and the default redirect_uri: WeChat adds them again on the way back). Without them
// goes `#wechat_redirect` too: a redirect whose Location has no fragment keeps the fragment of the URL
// it answered (Fetch standard, "HTTP-redirect fetch"), so the browser comes back from the authorize URL
// with it.
function readCallback(href) {
  const url = new URL(href)
  const code = url.searchParams.get('code')
  const state = url.searchParams.get('state')
  url.searchParams.delete('code')
  url.searchParams.delete('state')
  if (url.hash === '#wechat_redirect') url.hash = ''
  return { present: code !== null || state !== null, code, state, cleanURL: url.href }
}

function randomState(crypto) {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

// wx.request's body rules: GET/HEAD data goes to the query, objects become JSON unless the
// content-type says form, strings and binary bodies go as they are.
function encodeQuery(data) {
  return Object.keys(data).map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(String(data[k]))}`).join('&')
}

function headerIn(header, name) {
  const key = Object.keys(header).find((k) => k.toLowerCase() === name)
  return key === undefined ? undefined : header[key]
}

function requestBody(method, url, data, header) {
  if (data === undefined || data === null) return { url, body: undefined }
  if (method === 'GET' || method === 'HEAD') {
    const query = typeof data === 'object' ? encodeQuery(data) : String(data)
    return { url: query ? url + (url.includes('?') ? '&' : '?') + query : url, body: undefined }
  }
  const binary = typeof data !== 'object' ||
    (typeof ArrayBuffer !== 'undefined' && (data instanceof ArrayBuffer || ArrayBuffer.isView(data))) ||
    (typeof Blob !== 'undefined' && data instanceof Blob) ||
    (typeof FormData !== 'undefined' && data instanceof FormData) ||
    (typeof URLSearchParams !== 'undefined' && data instanceof URLSearchParams)
  if (binary) return { url, body: typeof data === 'object' ? data : String(data) }
  const type = headerIn(header, 'content-type')
  if (type === undefined) header['Content-Type'] = 'application/json'
  const form = String(type || '').includes('x-www-form-urlencoded')
  return { url, body: form ? encodeQuery(data) : JSON.stringify(data) }
}

// wx.request on fetch: resolves { statusCode, data, header } for every HTTP status; rejects (with an
// errMsg, never a TypeError: the client treats a TypeError as its own refusal) when no answer came,
// which includes an answer the browser withheld from the page because CORS did not allow it.
function fetchRequest(win, credentials) {
  return async function request(options) {
    const method = String(options.method || 'GET').toUpperCase()
    const header = { ...(options.header || {}) }
    const { url, body } = requestBody(method, options.url, options.data, header)
    const controller = options.timeout > 0 && typeof AbortController !== 'undefined' ? new AbortController() : null
    let timer = null
    if (controller) timer = setTimeout(() => controller.abort(), options.timeout)
    let response
    let data
    try {
      // `omit`: the token travels in Authorization, never in a cookie, so no credentialed CORS is needed.
      const signal = controller ? controller.signal : undefined
      response = await win.fetch(url, { method, headers: header, body, credentials, signal })
      if (options.responseType === 'arraybuffer') {
        data = await response.arrayBuffer()
      } else {
        data = await response.text()
        if (options.dataType !== 'text' && data !== '') {
          try { data = JSON.parse(data) } catch (_) { /* not JSON: the text, as wx.request gives it */ }
        }
      }
    } catch (error) {
      const why = controller && controller.signal.aborted ? 'timeout' : (error && error.message) || String(error)
      throw failure(`request:fail ${why}`)
    } finally {
      if (timer) clearTimeout(timer)
    }
    const headers = {}
    response.headers.forEach((value, name) => { headers[name] = value })
    return { statusCode: response.status, data, header: headers, errMsg: 'request:ok' }
  }
}

function checkOptions(options, win) {
  if (!options || typeof options !== 'object') throw new TypeError('createBrowserPlatform: options are required')
  if (!Object.prototype.hasOwnProperty.call(KINDS, options.kind || 'officialaccount')) {
    throw new TypeError('createBrowserPlatform: kind must be "officialaccount" or "website"')
  }
  const spec = KINDS[options.kind || 'officialaccount']
  if (options.scope !== undefined && !spec.scopes.includes(options.scope)) {
    throw new TypeError(`createBrowserPlatform: scope for ${options.kind || 'officialaccount'} must be ` +
      spec.scopes.join(' or '))
  }
  if (typeof options.appid !== 'string' || options.appid === '') {
    throw new TypeError('createBrowserPlatform: appid (the web app\'s, for WeChat\'s authorize page) is required')
  }
  if (!win.crypto || typeof win.crypto.getRandomValues !== 'function') {
    throw new TypeError('createBrowserPlatform: crypto.getRandomValues is required for the login state')
  }
  // `in`, not a read: reading localStorage throws where the user blocked site data, and the session
  // store copes with storage that throws (memory only); the login state then cannot be stored, and the
  // login refuses to start rather than come back unverifiable.
  for (const name of ['localStorage', 'location', 'history']) {
    if (!(name in win)) throw new TypeError(`createBrowserPlatform: the browser lacks ${name}`)
  }
  if (typeof options.request !== 'function' && typeof win.fetch !== 'function') {
    throw new TypeError('createBrowserPlatform: fetch, or a request function, is required')
  }
}

// A wx-shaped platform for createGatewayClient. `options.window` stands in for the browser's globals
// (fetch, localStorage, location, history, crypto) in tests.
function createBrowserPlatform(options) {
  const win = (options && options.window) || globalThis
  checkOptions(options, win)
  const kind = options.kind || 'officialaccount'
  const prefix = options.storagePrefix === undefined ? DEFAULT_PREFIX : String(options.storagePrefix)
  const request = typeof options.request === 'function'
    ? options.request
    : fetchRequest(win, options.credentials || 'omit')

  function getStorageSync(key) {
    const text = win.localStorage.getItem(prefix + key)
    if (text === null) return ''
    try { return JSON.parse(text) } catch (_) { return '' }
  }
  function setStorageSync(key, value) { win.localStorage.setItem(prefix + key, JSON.stringify(value)) }
  function removeStorageSync(key) { win.localStorage.removeItem(prefix + key) }

  // The callback, checked: its state must be the one this browser stored before leaving, and that
  // stored state is spent here whatever the outcome, so a callback works at most once. The address
  // bar loses code and state first, so neither a reload nor a shared link carries them again.
  function finishLogin(callback) {
    const stored = getStorageSync(STATE_KEY)
    removeStorageSync(STATE_KEY)
    win.history.replaceState(win.history.state, '', callback.cleanURL)
    if (!callback.state) {
      throw failure('login:fail the callback has no state; its code was not sent', 'invalid_state')
    }
    if (typeof stored !== 'string' || stored === '' || stored !== callback.state) {
      throw failure('login:fail the callback\'s state is not the one this browser stored (forged, or already ' +
        'used); its code was not sent', 'invalid_state')
    }
    if (!callback.code) {
      // WeChat comes back with the state alone when the user refused (snsapi_userinfo, a website's QR).
      throw failure('login:fail the user did not authorize (no code in the callback)', 'access_denied')
    }
    return { code: callback.code, errMsg: 'login:ok' }
  }

  function startLogin() {
    const state = randomState(win.crypto)
    setStorageSync(STATE_KEY, state)
    const redirectURI = options.redirectURI || readCallback(win.location.href).cleanURL.replace(/#.*$/, '')
    win.location.assign(authorizeURL({
      openBase: options.openBase, kind, appid: options.appid, redirectURI, scope: options.scope, state,
    }))
    // The page is going away; the login finishes on the page WeChat sends the browser back to.
    return new Promise(() => {})
  }

  return {
    login() {
      const callback = readCallback(win.location.href)
      if (!callback.present) return startLogin()
      try {
        return Promise.resolve(finishLogin(callback))
      } catch (error) {
        return Promise.reject(error)
      }
    },
    request,
    getStorageSync,
    setStorageSync,
    removeStorageSync,
    // True on the page WeChat sent the browser back to: call login() there to finish the login.
    hasLoginCallback() {
      return readCallback(win.location.href).present
    },
  }
}

// createGatewayClient on a browser platform; the client gains hasLoginCallback().
function createBrowserClient(options) {
  const platform = createBrowserPlatform(options)
  const client = createGatewayClient({ ...options, platform })
  return { ...client, hasLoginCallback: platform.hasLoginCallback }
}

module.exports = { createBrowserClient, createBrowserPlatform, authorizeURL, readCallback }
