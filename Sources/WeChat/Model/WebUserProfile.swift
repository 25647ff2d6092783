import JSON

/// What `/sns/userinfo` says about a web user: the nickname and the avatar URL (`headimgurl`).
public struct WebUserProfile: Sendable, Equatable {
    public let openID: String
    public let nickname: String
    /// The avatar's URL; empty when the user has none.
    public let headImageURL: String
    public let unionID: String?

    public init(openID: String, nickname: String, headImageURL: String, unionID: String?) {
        self.openID = openID
        self.nickname = nickname
        self.headImageURL = headImageURL
        self.unionID = unionID
    }

    /// Reads an answer whose errcode was 0 (or absent); throws `.unavailable` without an openid, and
    /// `.malformedAnswer` when the answer is about another user than `expectedOpenID`.
    public init(answer: JSONValue, expectedOpenID: String) throws(WeChatError) {
        guard let openID = answer["openid"]?.stringValue, !openID.isEmpty else {
            throw .unavailable(reason: "sns/userinfo answer has no openid")
        }
        guard openID == expectedOpenID else {
            throw .malformedAnswer(reason: "sns/userinfo answered for another openid")
        }
        self.init(
            openID: openID, nickname: answer["nickname"]?.stringValue ?? "",
            headImageURL: answer["headimgurl"]?.stringValue ?? "",
            unionID: answer["unionid"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
    }
}
