import JSON

/// A successful `/sns/oauth2/access_token` (or `/sns/oauth2/refresh_token`) answer: the web login of an official
/// account page or a website ("网页授权"). Its descriptions never show the two tokens, which are the user's
/// credentials at WeChat and stay inside the gateway, like the session_key.
public struct WebAccessTokenResult: Sendable, Equatable {
    public let openID: String
    /// Present when the app is bound to an Open Platform account and the scope gives it.
    public let unionID: String?
    /// The user's web access token (about 2 hours), for `/sns/userinfo`. Secret.
    public let accessToken: String
    /// Renews `accessToken` (30 days). Secret.
    public let refreshToken: String
    /// What the user granted: `snsapi_base`, `snsapi_userinfo` or `snsapi_login` (several are comma-separated).
    public let scope: String
    /// `is_snapshotuser = 1`: a virtual account of a page opened in Moments' snapshot mode, not a real user.
    public let isSnapshotUser: Bool

    public init(
        openID: String, unionID: String?, accessToken: String, refreshToken: String, scope: String,
        isSnapshotUser: Bool
    ) {
        self.openID = openID
        self.unionID = unionID
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.scope = scope
        self.isSnapshotUser = isSnapshotUser
    }

    /// Reads an answer whose errcode was 0 (or absent). Pure, so it is tested without a server.
    ///
    /// - Throws: `.unavailable` when openid, access_token or refresh_token is missing; `.malformedAnswer` when
    ///   openid or unionid could not be a header value (they become X-OpenId / X-UnionId upstream, as in
    ///   `Code2SessionResult`).
    public init(answer: JSONValue) throws(WeChatError) {
        guard let openID = answer["openid"]?.stringValue, !openID.isEmpty,
            let accessToken = answer["access_token"]?.stringValue, !accessToken.isEmpty,
            let refreshToken = answer["refresh_token"]?.stringValue, !refreshToken.isEmpty
        else {
            throw .unavailable(reason: "oauth2/access_token answer has no openid, access_token or refresh_token")
        }
        let unionID = answer["unionid"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        guard Code2SessionResult.isIdentifier(openID), unionID.map(Code2SessionResult.isIdentifier) ?? true else {
            throw .malformedAnswer(reason: "oauth2/access_token answer has a malformed openid or unionid")
        }
        self.init(
            openID: openID, unionID: unionID, accessToken: accessToken, refreshToken: refreshToken,
            scope: answer["scope"]?.stringValue ?? "",
            // WeChat sends 1 only for snapshot users and leaves the field out otherwise; a number or its text.
            isSnapshotUser: answer["is_snapshotuser"]?.intValue == 1)
    }

    /// Whether the user granted `scope` (`scope` may list several, comma-separated).
    public func grants(_ scope: String) -> Bool {
        WebCredentials.scopes(self.scope).contains(scope)
    }
}

extension WebAccessTokenResult: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "WebAccessTokenResult(openID: \(openID), unionID: \(unionID ?? "nil"), scope: \(scope), "
            + "isSnapshotUser: \(isSnapshotUser), accessToken: <redacted>, refreshToken: <redacted>)"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "openID": openID, "unionID": unionID as Any, "scope": scope, "isSnapshotUser": isSnapshotUser,
                "accessToken": "<redacted>", "refreshToken": "<redacted>",
            ])
    }
}
