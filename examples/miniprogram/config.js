// Where the gateway is. Tests replace these two values before app.js is loaded.
module.exports = {
  gatewayURL: 'https://gw.example.com',
  appid: 'wx1234567890abcdef',
}
