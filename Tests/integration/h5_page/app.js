'use strict'
// The H5 app: one client for the page, as an app would create it, and `outcome` turning a promise
// into something the test can read (errors by name, code and the adapter's reason).
const { createBrowserClient } = window.requireLib('./browser')
const gw = createBrowserClient(window.CONFIG.client)
window.gw = gw
window.outcome = function (promise) {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error) => ({
      ok: false, name: error.name, code: error.code, message: error.message,
      reason: error.cause && error.cause.code,
    }))
}
// Back from WeChat's authorize page: finish the login (the adapter checks the state first).
if (gw.hasLoginCallback()) window.loginOutcome = window.outcome(gw.login())
