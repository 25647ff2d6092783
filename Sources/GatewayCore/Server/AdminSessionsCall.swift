import Foundation
import JSON

/// What `gateway sessions list|revoke` sends to a running gateway's admin listener: the pure half of the command,
/// so the request it makes is the one `AdminSessionsRequest` reads.
public struct AdminSessionsCall: Sendable, Equatable {
    public var method: String
    /// Path and query, to append to the admin listener's base URL.
    public var target: String
    /// The JSON body of a revocation; nil for a listing.
    public var body: String?

    /// `GET /sessions?openid=X[&appid=A]`.
    public static func list(openid: String, appid: String?) -> AdminSessionsCall {
        var components = URLComponents()
        components.path = "/sessions"
        components.queryItems =
            [URLQueryItem(name: "openid", value: openid)]
            + (appid.map { [URLQueryItem(name: "appid", value: $0)] } ?? [])
        // URLComponents leaves `+` as is, which form decoders would read as a space.
        let query = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
        return AdminSessionsCall(method: "GET", target: "/sessions?" + query, body: nil)
    }

    /// `POST /sessions/revoke` with `{"openid": X, "appid": A}` or `{"sid": S}`, and `"reason"` when given.
    public static func revoke(_ selector: AdminSessionsRequest.Selector, reason: String?) -> AdminSessionsCall {
        var body = JSONObjectWriter()
        switch selector {
        case .user(let openid, let appid):
            body.member("openid", openid)
            body.member("appid", ifPresent: appid)
        case .session(let sid):
            body.member("sid", sid)
        }
        body.member("reason", ifPresent: reason)
        return AdminSessionsCall(method: "POST", target: "/sessions/revoke", body: body.text)
    }

    /// The base URL of the admin listener at `address`: a wildcard address is reached on loopback.
    public static func baseURL(of address: ListenAddress) -> String {
        let host: String
        switch address.host {
        case "0.0.0.0", "": host = "127.0.0.1"
        case "::", "0:0:0:0:0:0:0:0": host = "[::1]"
        case let name where name.contains(":"): host = "[\(name)]"
        case let name: host = name
        }
        return "http://\(host):\(address.port)"
    }
}
