// Types for browser.js: the client library in a browser (H5 pages, websites). The shapes are in index.d.ts.
import type { BrowserClientOptions, BrowserGatewayClient, BrowserPlatform, BrowserPlatformOptions } from './index'

export type { BrowserClientOptions, BrowserGatewayClient, BrowserPlatform, BrowserPlatformOptions } from './index'

/** `createGatewayClient` on `createBrowserPlatform(options)`: the same storage rules and single-flight refresh. */
export declare function createBrowserClient(options: BrowserClientOptions): BrowserGatewayClient

/** A wx-shaped platform on fetch, localStorage and WeChat's web authorization. */
export declare function createBrowserPlatform(options: BrowserPlatformOptions): BrowserPlatform

/** WeChat's authorize URL (parameters in WeChat's order, `#wechat_redirect` last). */
export declare function authorizeURL(options: {
  openBase?: string
  kind?: 'officialaccount' | 'website'
  appid: string
  redirectURI: string
  scope?: string
  state: string
}): string

/** The callback's `code` and `state` in `href`, and `href` without them. */
export declare function readCallback(href: string): {
  present: boolean
  code: string | null
  state: string | null
  cleanURL: string
}
