import JSON

extension Code2SessionResult {
    /// Reads a jscode2session answer whose errcode was 0 (or absent). Pure, so it can be tested and fuzzed
    /// without a server.
    ///
    /// - Throws: `.unavailable` when openid or session_key is missing (WeChat did not answer what it should);
    ///   `.malformedAnswer` when openid or unionid could not be a header value. Both ids become X-OpenId /
    ///   X-UnionId lines on every upstream request: a space, control character (CR/LF would start a header line of
    ///   its own) or non-ASCII byte in them is a broken answer, never forwarded.
    public init(answer: JSONValue) throws(WeChatError) {
        guard let openID = answer["openid"]?.stringValue, !openID.isEmpty,
            let sessionKey = answer["session_key"]?.stringValue, !sessionKey.isEmpty
        else {
            throw .unavailable(reason: "jscode2session answer has no openid or session_key")
        }
        let unionID = answer["unionid"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        guard Self.isIdentifier(openID), unionID.map(Self.isIdentifier) ?? true else {
            throw .malformedAnswer(reason: "jscode2session answer has a malformed openid or unionid")
        }
        self.init(openID: openID, sessionKey: sessionKey, unionID: unionID)
    }

    /// Visible ASCII only, at most 128 bytes. WeChat's ids are 28 characters of base64url; this only keeps out
    /// what could not be a header value.
    static func isIdentifier(_ value: String) -> Bool {
        value.utf8.count <= 128 && value.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }
}
