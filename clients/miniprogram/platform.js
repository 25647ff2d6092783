'use strict'

// The mini-program runtime behind one small promise interface. `wx`, `uni` and `Taro` expose the
// same callback-style calls (`success` / `fail`); Taro and uni may also return a promise, which is
// only used as a fallback and always has a rejection handler so it can never go unhandled.

const REQUIRED = ['login', 'request', 'getStorageSync', 'setStorageSync', 'removeStorageSync']

function checkPlatform(platform) {
  if (!platform || typeof platform !== 'object' && typeof platform !== 'function') {
    throw new TypeError('createGatewayClient: `platform` must be wx, uni or Taro')
  }
  const missing = REQUIRED.filter((name) => typeof platform[name] !== 'function')
  if (missing.length) {
    throw new TypeError(`createGatewayClient: platform lacks ${missing.join(', ')}`)
  }
}

function errMsgOf(failure) {
  if (failure && typeof failure.errMsg === 'string') return failure.errMsg
  if (failure && typeof failure.message === 'string') return failure.message
  return String(failure)
}

// Calls `platform[name](options)` with success/fail callbacks; resolves with the success value,
// rejects with the raw failure object. The first settlement wins, the rest are ignored. `withTask`
// gets what the call returned (the task) at once, before any callback.
function call(platform, name, options, withTask) {
  return new Promise((resolve, reject) => {
    let settled = false
    const once = (fn) => (value) => {
      if (settled) return
      settled = true
      fn(value)
    }
    const success = once(resolve)
    const fail = once(reject)
    let returned
    try {
      returned = platform[name]({ ...options, success, fail })
    } catch (thrown) {
      fail(thrown)
      return
    }
    if (withTask) withTask(returned)
    if (returned && typeof returned.then === 'function') {
      returned.then((value) => { if (value !== undefined) success(value) }, fail)
    }
  })
}

function createPlatform(platform) {
  checkPlatform(platform)
  return {
    login: () => call(platform, 'login', {}),
    request: (options) => call(platform, 'request', options),
    uploadFile: (options) => {
      if (typeof platform.uploadFile !== 'function') {
        return Promise.reject(new TypeError('platform has no uploadFile'))
      }
      // wx.uploadFile's success has no `header`; its task hands the headers to onHeadersReceived
      // first. They carry the gateway's mark (X-Gateway-Error), which decides whether a 401 may be
      // answered with a refresh and a replay, so they are added to the result.
      let header
      const listen = (task) => {
        if (task && typeof task.onHeadersReceived === 'function') {
          task.onHeadersReceived((res) => { header = res && res.header })
        }
      }
      return call(platform, 'uploadFile', options, listen)
        .then((res) => (res && res.header === undefined && header ? { ...res, header } : res))
    },
    // Synchronous in every runtime: the socket task is returned at once.
    connectSocket: (options) => {
      if (typeof platform.connectSocket !== 'function') throw new TypeError('platform has no connectSocket')
      return platform.connectSocket(options)
    },
    // wx answers '' for a key it does not hold; treat anything that is not an object as absent.
    getItem: (key) => {
      const value = platform.getStorageSync(key)
      return value && typeof value === 'object' ? value : null
    },
    setItem: (key, value) => platform.setStorageSync(key, value),
    removeItem: (key) => platform.removeStorageSync(key),
  }
}

module.exports = { createPlatform, errMsgOf }
