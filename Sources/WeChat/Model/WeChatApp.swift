/// One mini-program's credentials. Its descriptions show the appid only, never the secret.
public struct WeChatApp: Sendable, Hashable {
    public let appID: String
    public let secret: String

    public init(appID: String, secret: String) {
        self.appID = appID
        self.secret = secret
    }
}

extension WeChatApp: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "WeChatApp(appID: \(appID), secret: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["appID": appID, "secret": "<redacted>"]) }
}
