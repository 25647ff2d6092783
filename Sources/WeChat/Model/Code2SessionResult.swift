/// A successful `jscode2session` answer. Its descriptions never show the session_key.
public struct Code2SessionResult: Sendable, Equatable {
    public let openID: String
    /// The user's current session_key (base64 text); keep it server-side only.
    public let sessionKey: String
    /// Present only when the app is bound to a WeChat Open Platform account.
    public let unionID: String?

    public init(openID: String, sessionKey: String, unionID: String?) {
        self.openID = openID
        self.sessionKey = sessionKey
        self.unionID = unionID
    }
}

extension Code2SessionResult: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "Code2SessionResult(openID: \(openID), unionID: \(unionID ?? "nil"), sessionKey: <redacted>)"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["openID": openID, "unionID": unionID as Any, "sessionKey": "<redacted>"])
    }
}
