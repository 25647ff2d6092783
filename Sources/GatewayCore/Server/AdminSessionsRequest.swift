import Foundation
import JSON

/// What an operator asked of `/sessions` or `/sessions/revoke`: a pure reading of the query or the JSON body, so the
/// handler only performs it.
public struct AdminSessionsRequest: Sendable, Equatable {
    public enum Selector: Sendable, Equatable {
        /// Every live session of a user; of one mini-program when `appid` is set.
        case user(openid: String, appid: String?)
        /// One session, by its id (the access tokens' `sid`).
        case session(sid: String)
    }

    public var selector: Selector
    /// Why the sessions end, for the log line (`"reason"` in the body).
    public var reason: String?

    public init(selector: Selector, reason: String? = nil) {
        self.selector = selector
        self.reason = reason
    }

    /// `GET /sessions?openid=X[&appid=A]`; nil with a message when `openid` is missing.
    public static func listing(uri: String) -> Result<AdminSessionsRequest, AdminRequestError> {
        var fields: [String: String] = [:]
        for item in URLComponents(string: uri)?.queryItems ?? [] {
            if let value = item.value, !value.isEmpty { fields[item.name] = value }
        }
        guard let openid = fields["openid"] else { return .failure(AdminRequestError("openid is required")) }
        return .success(AdminSessionsRequest(selector: .user(openid: openid, appid: fields["appid"]), reason: nil))
    }

    /// `POST /sessions/revoke` with `{"openid": X}` (and optionally `"appid"`) or `{"sid": S}`, and `"reason"`.
    public static func revocation(body: [UInt8]) -> Result<AdminSessionsRequest, AdminRequestError> {
        guard let fields = JSONFields.parse(body) else {
            return .failure(AdminRequestError("the body must be one JSON object"))
        }
        let value = { (name: String) -> String? in fields[name].flatMap { $0.isEmpty ? nil : $0 } }
        let reason = value("reason")
        switch (value("openid"), value("sid")) {
        case (let openid?, nil):
            let selector = Selector.user(openid: openid, appid: value("appid"))
            return .success(AdminSessionsRequest(selector: selector, reason: reason))
        case (nil, let sid?):
            guard value("appid") == nil else { return .failure(AdminRequestError("appid goes with openid, not sid")) }
            return .success(AdminSessionsRequest(selector: .session(sid: sid), reason: reason))
        case (.some, .some):
            return .failure(AdminRequestError("give openid or sid, not both"))
        case (nil, nil):
            return .failure(AdminRequestError("openid or sid is required"))
        }
    }
}
