// Types for the gateway's mini-program client (CommonJS: `const { createGatewayClient } = require(...)`).

/** The calls the library uses: `wx`, `uni` and `Taro` all have them. */
export interface MiniProgramPlatform {
  login(options: { success?(res: { code: string }): void; fail?(err: { errMsg: string }): void }): unknown
  request(options: RequestOptions & { success?(res: RequestResult): void; fail?(err: { errMsg: string }): void }): unknown
  uploadFile?(options: UploadFileOptions & { success?(res: UploadFileResult): void; fail?(err: { errMsg: string }): void }): unknown
  connectSocket?(options: ConnectSocketOptions): SocketTask
  getStorageSync(key: string): any
  setStorageSync(key: string, value: any): void
  removeStorageSync(key: string): void
}

/**
 * The browser (an H5 page, a website): what `createBrowserPlatform` / `createBrowserClient` in `browser.js` take.
 * `request` via `fetch`, storage in `localStorage` under `storagePrefix`, and `login` through WeChat's web
 * authorization with a one-use random `state`.
 */
export interface BrowserPlatformOptions {
  /** The web app's appid (an official account's, or a website app's), for WeChat's authorize page. */
  appid: string
  /** `'officialaccount'` (default): /connect/oauth2/authorize. `'website'`: /connect/qrconnect (QR login). */
  kind?: 'officialaccount' | 'website'
  /** officialaccount: `'snsapi_base'` (default) or `'snsapi_userinfo'`; website: `'snsapi_login'` (the default). */
  scope?: 'snsapi_base' | 'snsapi_userinfo' | 'snsapi_login'
  /** Where WeChat's authorize pages are. Default `https://open.weixin.qq.com`; the simulator's URL in tests. */
  openBase?: string
  /** Where WeChat sends the browser back. Default: the current page without `code`, `state` and fragment. */
  redirectURI?: string
  /** Prefix of every localStorage key (the session, the login state). Default `'wechat-gateway:'`. */
  storagePrefix?: string
  /** uni-app's or Taro's H5 `request` (`uni.request`, `Taro.request`) instead of `fetch`. */
  request?: MiniProgramPlatform['request']
  /** `fetch`'s credentials mode. Default `'omit'`: the token travels in Authorization, never in a cookie. */
  credentials?: 'omit' | 'same-origin' | 'include'
  /** Stand-in for the browser's globals (fetch, localStorage, location, history, crypto); for tests. */
  window?: any
}

/** `createBrowserClient`'s options: the client's and the browser platform's, `platform` excepted. */
export type BrowserClientOptions = Omit<GatewayClientOptions, 'platform' | 'appid'> & BrowserPlatformOptions

/** The wx-shaped platform `createBrowserPlatform` returns, for `createGatewayClient({ platform })`. */
export interface BrowserPlatform extends MiniProgramPlatform {
  /** True on the page WeChat sent the browser back to (`code` or `state` in the URL): call `login()` there. */
  hasLoginCallback(): boolean
}

/**
 * The client of `createBrowserClient`. `login()` first sends the browser to WeChat (its promise never settles:
 * the page goes away); on the page WeChat sends the browser back to, it checks `state` and posts the code. A
 * missing, forged or reused state rejects with `GatewayLoginError` (`cause.code === 'invalid_state'`) and the
 * code is never sent; a user who refused rejects with `cause.code === 'access_denied'`.
 */
export interface BrowserGatewayClient extends GatewayClient {
  hasLoginCallback(): boolean
}

export interface GatewayClientOptions {
  /**
   * The gateway's origin, e.g. `https://gw.example.com` (a path may follow; no userinfo, query or fragment).
   * Tokens are only ever sent to that exact origin: scheme, host (any case) and port.
   */
  baseURL: string
  /** Sent with `/auth/login`; optional when the gateway serves one app. */
  appid?: string
  /** `wx`, `uni` or `Taro`; in a browser, `createBrowserPlatform(...)` (browser.js). */
  platform: MiniProgramPlatform
  /** Storage key of the session. Default `'gateway.session'`. */
  storageKey?: string
  /** Seconds before expiry to refresh (at most half the token lifetime). Default 60. */
  refreshLeeway?: number
  /** Log in with wx.login when a request finds no session. Default true. */
  autoLogin?: boolean
  /** Default timeout (ms) passed to request/uploadFile. */
  timeout?: number
  /** Clock in ms since the epoch; for tests. Default `Date.now`. */
  now?(): number
}

export interface RequestOptions {
  /** A path on the gateway (`/api/orders`) or an absolute URL on baseURL. */
  url: string
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS' | string
  data?: string | object | ArrayBuffer
  header?: Record<string, string>
  timeout?: number
  dataType?: string
  responseType?: 'text' | 'arraybuffer' | string
  [option: string]: unknown
}

/** wx.request's success shape, for any HTTP status. */
export interface RequestResult<T = any> {
  statusCode: number
  data: T
  header: Record<string, string>
  [field: string]: unknown
}

export interface UploadFileOptions {
  url: string
  filePath: string
  name: string
  header?: Record<string, string>
  formData?: Record<string, string>
  timeout?: number
  [option: string]: unknown
}

/** wx.uploadFile's success shape: `data` is the body as a string. */
export interface UploadFileResult {
  statusCode: number
  data: string
  /** The answer's headers, from the upload task's onHeadersReceived, when the platform has it. */
  header?: Record<string, string>
  [field: string]: unknown
}

export interface ConnectSocketOptions {
  /**
   * A path on the gateway (`/ws/chat`), or an absolute ws(s) / http(s) URL on the gateway's exact origin
   * (anything else is refused with a TypeError); http(s) becomes ws(s).
   */
  url: string
  header?: Record<string, string>
  protocols?: string[]
  [option: string]: unknown
}

/** Whatever the platform's connectSocket returns. */
export type SocketTask = any

/** What the app may read about the session: never the tokens. */
export interface SessionInfo {
  openid: string
  unionid?: string
  /** Access-token expiry, ms since the epoch (the client's clock). */
  expiresAt: number
}

export interface PhoneNumber {
  phoneNumber: string
  purePhoneNumber: string
  countryCode: string
}

export interface UserInfoInput {
  encryptedData: string
  iv: string
  rawData?: string
  signature?: string
}

export interface GatewayClient {
  /** wx.login → POST /auth/login → tokens stored. Joins a login already in flight. */
  login(): Promise<SessionInfo>
  /**
   * wx.request with the bearer token; resolves for every HTTP status, rejects without an answer. Only the
   * gateway's own 401 (`X-Gateway-Error: invalid_token`) is answered with a refresh and one replay; an
   * upstream's 401 is returned as it is.
   */
  request<T = any>(options: RequestOptions): Promise<RequestResult<T>>
  uploadFile(options: UploadFileOptions): Promise<UploadFileResult>
  /** Resolves with the platform's SocketTask once a valid token is at hand. */
  connectSocket(options: ConnectSocketOptions): Promise<SocketTask>
  /** POST /auth/phone with the code from `<button open-type="getPhoneNumber">`. */
  getPhoneNumber(code: string): Promise<PhoneNumber>
  /** POST /auth/userinfo: the gateway checks and decrypts wx.getUserInfo's data. */
  userInfo(input: UserInfoInput): Promise<Record<string, any>>
  /** Clears the session at once, then POST /auth/logout (or /auth/revoke). Never rejects. */
  logout(): Promise<{ revoked: boolean }>
  session(): SessionInfo | null
}

export declare function createGatewayClient(options: GatewayClientOptions): GatewayClient

export declare class GatewayError extends Error {
  /** The gateway's `error` code (`invalid_token`, `slow_down`...), or `http_<status>`. */
  code: string
  statusCode?: number
  /** The gateway's request id: find the access-log line with it. */
  requestId?: string
  description?: string
  /** Seconds, from Retry-After. */
  retryAfter?: number
}

/** The identity was refused: the gateway's second 401, a refused login, `login_required`, `logged_out`. */
export declare class GatewayAuthError extends GatewayError {}

/** No HTTP answer (connection refused, DNS, TLS, timeout). The session is kept. */
export declare class GatewayNetworkError extends GatewayError {
  /** The platform's errMsg, unchanged. */
  errMsg: string
  cause?: unknown
}

/** wx.login gave no code; nothing was sent to the gateway. */
export declare class GatewayLoginError extends GatewayError {
  errMsg: string
  cause?: unknown
}
