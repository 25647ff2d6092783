import Foundation
import JSON

/// A web login's WeChat credentials as the session store keeps them: in the place of a mini-program's session_key
/// (the newest per app and openid, never returned or logged), as one JSON text. Pure, so the round trip is tested.
public struct WebCredentials: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String
    public var scope: String

    public init(accessToken: String, refreshToken: String, scope: String) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.scope = scope
    }

    public init(_ result: WebAccessTokenResult) {
        self.init(accessToken: result.accessToken, refreshToken: result.refreshToken, scope: result.scope)
    }

    /// Marks the stored text as web credentials: a session_key is base64 and never starts with `{`.
    static let version = "wechat-web-1"

    /// The text stored as the session's key.
    public var storedText: String {
        var object = JSONObjectWriter()
        object.member("v", Self.version)
        object.member("access_token", accessToken)
        object.member("refresh_token", refreshToken)
        object.member("scope", scope)
        return object.text
    }

    /// Reads `storedText`; nil for anything else (a mini-program's session_key).
    public init?(storedText: String) {
        guard storedText.hasPrefix("{"), let json = JSONValue.parse(Array(storedText.utf8)),
            json["v"]?.stringValue == Self.version,
            let accessToken = json["access_token"]?.stringValue, let refreshToken = json["refresh_token"]?.stringValue
        else { return nil }
        self.init(accessToken: accessToken, refreshToken: refreshToken, scope: json["scope"]?.stringValue ?? "")
    }

    /// The scopes of a `scope` text: WeChat separates several with commas.
    public static func scopes(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    /// `/sns/userinfo` answers for `snsapi_userinfo` (official account) and `snsapi_login` (website) only.
    public var allowsProfile: Bool {
        Self.scopes(scope).contains { $0 == "snsapi_userinfo" || $0 == "snsapi_login" }
    }
}

extension WebCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "WebCredentials(scope: \(scope), accessToken: <redacted>, refreshToken: <redacted>)"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["scope": scope, "accessToken": "<redacted>"]) }
}
