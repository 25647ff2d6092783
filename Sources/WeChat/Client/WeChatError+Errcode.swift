extension WeChatError {
    /// Errcodes that mean "this access token is no longer good, fetch another" (WeChat 全局返回码:
    /// 40001 invalid or not latest, 40014 invalid, 42001 expired).
    static let staleAccessTokenErrcodes: Set<Int> = [40001, 40014, 42001]

    /// The typed case for a non-zero errcode from WeChat.
    static func fromAPI(errcode: Int, errmsg: String) -> WeChatError {
        switch errcode {
        case 40029: return .invalidCode
        case 40163: return .codeUsed
        case 45011: return .rateLimited
        case 40226: return .riskyUser
        case 40013: return .invalidAppID
        case 40125: return .invalidSecret
        case -1: return .systemBusy
        default: return .api(errcode: errcode, errmsg: errmsg)
        }
    }
}
