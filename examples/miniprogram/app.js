// One gateway client for the whole mini-program, created once and shared through getApp():
// two clients would each refresh on their own.
const { createGatewayClient } = require('./lib/gateway-client')
const config = require('./config')

const gateway = createGatewayClient({
  baseURL: config.gatewayURL,
  appid: config.appid,
  platform: wx,
  refreshLeeway: 60,
})

App({
  gateway,

  onLaunch() {
    // A stored session is resumed as it is; otherwise log in silently now, so the first page's
    // requests do not each start with a login (they would wait for this one anyway).
    this.ready = gateway.session() ? Promise.resolve(gateway.session()) : gateway.login()
    // A failed launch login is reported by the page's first request, which tries again.
    this.ready.catch(() => {})
  },
})
