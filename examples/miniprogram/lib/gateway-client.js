// In your own project copy the files of clients/miniprogram/ (index.js, platform.js,
// session-store.js, refresh-coordinator.js, answers.js, errors.js) into this folder: WeChat's
// build only packages files inside the mini-program's root. This example points at the
// repository's copy so that it always runs the library as it is.
module.exports = require('../../../clients/miniprogram')
