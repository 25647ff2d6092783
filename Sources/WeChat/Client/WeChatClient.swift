import CurlHTTP
import Foundation
import JSON
import NIOCore

/// Calls WeChat's server APIs (code2Session, stable access token, phone number) over `CurlHTTP`.
///
/// Promises: a login or phone code is sent at most once (codes are single use, WeChat "小程序登录");
/// every failure is a typed `WeChatError`, transport and format failures are `.unavailable`, an answer with an
/// id that could not be a header value is `.malformedAnswer`;
/// answers are read leniently (missing errcode = 0, unknown fields ignored); no error or
/// description carries the app secret, a session_key or an access token.
public final class WeChatClient: Sendable {
    /// Where the API lives, e.g. `https://api.weixin.qq.com` or the simulator's `http://127.0.0.1:9100`.
    public let apiBase: String
    /// Limit for each whole API exchange.
    public let timeout: Duration
    private let curl: CurlClient
    private let tokens = StableAccessTokenCache()
    /// Told about every exchange: the API path, the errcode (-1 for a transport failure, as WeChat's own
    /// "system busy") and the seconds it took; the gateway counts them in its metrics.
    private let onCall: (@Sendable (_ api: String, _ errcode: Int, _ seconds: Double) -> Void)?

    /// WeChat's answers are small JSON documents; anything larger is not one.
    static let maxAnswerBytes = 256 * 1024

    public init(
        apiBase: String, timeout: Duration, curl: CurlClient,
        onCall: (@Sendable (_ api: String, _ errcode: Int, _ seconds: Double) -> Void)? = nil
    ) {
        self.onCall = onCall
        self.apiBase = apiBase.hasSuffix("/") ? String(apiBase.dropLast()) : apiBase
        self.timeout = timeout
        self.curl = curl
    }

    /// Exchanges a `wx.login` code for the user's openid, session_key and (when bound) unionid.
    public func code2Session(app: WeChatApp, code: String) async throws(WeChatError) -> Code2SessionResult {
        let query = QueryString.encode([
            ("appid", app.appID), ("secret", app.secret), ("js_code", code), ("grant_type", "authorization_code"),
        ])
        let answer = try await call(method: "GET", path: "/sns/jscode2session?" + query, json: nil)
        return try Code2SessionResult(answer: answer)
    }

    /// The app's stable access token, from cache while it is fresh (see `AccessTokenRefreshPolicy`).
    public func accessToken(app: WeChatApp) async throws(WeChatError) -> String {
        try await tokens.token(appID: app.appID) { [self] in
            do throws(WeChatError) {
                return .success(try await fetchStableToken(app: app))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Resolves a phone number code from the mini-program's `getPhoneNumber` button.
    public func phoneNumber(app: WeChatApp, code: String) async throws(WeChatError) -> PhoneNumber {
        let token = try await accessToken(app: app)
        do {
            return try await fetchPhoneNumber(accessToken: token, code: code)
        } catch .api(let errcode, _) where WeChatError.staleAccessTokenErrcodes.contains(errcode) {
            // WeChat rejects the token before it looks at the code, so the code is still unspent and
            // may go out once more with a fresh token.
            await tokens.invalidate(appID: app.appID, token: token)
            let fresh = try await accessToken(app: app)
            return try await fetchPhoneNumber(accessToken: fresh, code: code)
        }
    }

    private func fetchStableToken(app: WeChatApp) async throws(WeChatError) -> StableAccessTokenCache.Token {
        let body: JSONValue = .object([
            "grant_type": .string("client_credential"), "appid": .string(app.appID),
            "secret": .string(app.secret), "force_refresh": .bool(false),
        ])
        let answer = try await call(method: "POST", path: "/cgi-bin/stable_token", json: body)
        guard let token = answer["access_token"]?.stringValue, !token.isEmpty,
            let expiresIn = answer["expires_in"]?.intValue, expiresIn > 0
        else {
            throw .unavailable(reason: "stable_token answer has no access_token or expires_in")
        }
        return .init(
            value: token,
            refreshAt: AccessTokenRefreshPolicy.refreshAt(receivedAt: .now, expiresIn: .seconds(expiresIn)))
    }

    private func fetchPhoneNumber(accessToken: String, code: String) async throws(WeChatError) -> PhoneNumber {
        let path = "/wxa/business/getuserphonenumber?" + QueryString.encode([("access_token", accessToken)])
        let answer = try await call(method: "POST", path: path, json: .object(["code": .string(code)]))
        guard let info = answer["phone_info"],
            let phoneNumber = info["phoneNumber"]?.stringValue,
            let purePhoneNumber = info["purePhoneNumber"]?.stringValue
        else {
            throw .unavailable(reason: "getuserphonenumber answer has no phone_info")
        }
        return PhoneNumber(
            phoneNumber: phoneNumber, purePhoneNumber: purePhoneNumber,
            countryCode: info["countryCode"]?.stringValue ?? "")
    }

    /// One exchange, never retried. Returns the answer object once its errcode is 0 or absent.
    func call(method: String, path: String, json: JSONValue?) async throws(WeChatError) -> JSONValue {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        var body = CurlRequestBody.none
        if let json {
            headers.append(("Content-Type", "application/json"))
            body = .bytes(ByteBuffer(bytes: json.serialized()))
        }
        let milliseconds = Self.milliseconds(timeout)
        let request = CurlRequest(
            method: method, url: apiBase + path, headers: headers, body: body,
            connectTimeoutMilliseconds: milliseconds, timeoutMilliseconds: milliseconds)
        let endpoint = String(path.prefix { $0 != "?" })
        let started = ContinuousClock.now
        var errcode = -1
        defer {
            if let onCall {
                let elapsed = ContinuousClock.now - started
                onCall(
                    endpoint, errcode,
                    Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
        }

        let response: CurlResponse
        do {
            response = try await curl.execute(request, maxBodyBytes: Self.maxAnswerBytes)
        } catch {
            // The curl message is left out on purpose: it can quote the URL, whose query holds the secret.
            throw .unavailable(reason: Self.describe(error, endpoint: endpoint, milliseconds: milliseconds))
        }
        guard response.head.status == 200 else {
            throw .unavailable(reason: "\(endpoint) answered HTTP \(response.head.status)")
        }
        guard let answer = JSONValue.parse(Data(response.body.readableBytesView)), answer.objectValue != nil else {
            throw .unavailable(reason: "\(endpoint) answered with something that is not a JSON object")
        }
        // Successful answers may carry no errcode at all (code2Session), or errcode 0 (phone number).
        errcode = answer["errcode"]?.intValue ?? 0
        guard errcode == 0 else {
            throw WeChatError.fromAPI(errcode: errcode, errmsg: answer["errmsg"]?.stringValue ?? "")
        }
        return answer
    }

    private static func describe(_ error: CurlError, endpoint: String, milliseconds: Int) -> String {
        switch error {
        case .timedOut: return "\(endpoint) timed out after \(milliseconds) ms"
        case .couldNotConnect: return "could not connect to WeChat for \(endpoint)"
        case .brokenResponse: return "\(endpoint) answer was cut off or not HTTP"
        case .cancelled: return "\(endpoint) call was cancelled"
        case .requestBodyFailed: return "\(endpoint) request body could not be sent"
        case .other(let code, _): return "\(endpoint) failed with libcurl error \(code)"
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000), 1)
    }
}
