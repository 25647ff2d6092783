// The orders page: every call goes through app.gateway, which adds the token, refreshes it and
// logs in again when needed. The page only decides what to show.
const { GatewayAuthError, GatewayNetworkError } = require('../../lib/gateway-client')

const app = getApp()

Page({
  data: { openid: '', orders: null, profile: null, message: '', loggedIn: false },

  onLoad() {
    return this.refresh()
  },

  onPullDownRefresh() {
    return this.refresh().then(() => wx.stopPullDownRefresh && wx.stopPullDownRefresh())
  },

  // Two requests at once: when the token has expired they share one refresh.
  async refresh() {
    try {
      const [orders, profile] = await Promise.all([
        app.gateway.request({ url: '/api/orders', method: 'GET', data: { page: 1 } }),
        app.gateway.request({ url: '/api/profile', method: 'GET' }),
      ])
      if (orders.statusCode !== 200 || profile.statusCode !== 200) {
        // 5xx, 429...: the service's answer, shown as such; the session is untouched.
        this.setData({ message: `service answered ${orders.statusCode}/${profile.statusCode}` })
        return
      }
      const session = app.gateway.session()
      this.setData({ orders: orders.data, profile: profile.data, openid: session.openid, loggedIn: true, message: '' })
    } catch (error) {
      this.setData({ message: describe(error), loggedIn: Boolean(app.gateway.session()) })
    }
  },

  // <button open-type="getPhoneNumber" bindgetphonenumber="onGetPhoneNumber">
  async onGetPhoneNumber(event) {
    if (!event.detail || !event.detail.code) return
    try {
      const phone = await app.gateway.getPhoneNumber(event.detail.code)
      this.setData({ message: `phone ${phone.purePhoneNumber}` })
    } catch (error) {
      this.setData({ message: describe(error) })
    }
  },

  async onLogin() {
    try {
      await app.gateway.login()
      await this.refresh()
    } catch (error) {
      this.setData({ message: describe(error) })
    }
  },

  async onLogout() {
    await app.gateway.logout() // never rejects: the device is logged out either way
    this.setData({ openid: '', orders: null, profile: null, loggedIn: false, message: 'logged out' })
  },
})

function describe(error) {
  if (error instanceof GatewayAuthError) return `please log in again (${error.code})`
  if (error instanceof GatewayNetworkError) return 'no connection, try again'
  return `something went wrong (${error.code || error.message})`
}
