'use strict'
// The smallest CommonJS loader: what a bundler (uni-app's, Taro's, webpack, vite) does for the H5
// build, enough to run the client library's files unchanged, each fetched from /lib/.
window.requireLib = (function () {
  const cache = {}
  function load(name) {
    const file = name.replace(/^\.\//, '') + '.js'
    if (cache[file]) return cache[file].exports
    const xhr = new XMLHttpRequest()
    xhr.open('GET', '/lib/' + file, false)
    xhr.send()
    if (xhr.status !== 200) throw new Error('cannot load /lib/' + file + ': ' + xhr.status)
    const module = { exports: {} }
    cache[file] = module
    new Function('require', 'module', 'exports', xhr.responseText + '\n//# sourceURL=/lib/' + file)(
      load, module, module.exports)
    return module.exports
  }
  return load
})()
