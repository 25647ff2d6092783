/// Every way the `WeChat` module can fail, one case per cause so callers can map each to an answer.
///
/// Promise: no case and no `description` ever contains an app secret, a session_key, an access
/// token or decrypted user data. App ids, errcodes and WeChat's own `errmsg` are not secret.
public enum WeChatError: Error, Equatable, Sendable {
    // MARK: Encrypted user data (wx.getUserInfo / open data decryption)

    /// A base64 field did not decode. `containsSpace` is true when a space was present, which
    /// almost always means a `+` was turned into a space by form or URL decoding on the way in.
    case invalidBase64(field: String, containsSpace: Bool)
    /// The decoded session_key is not 16 bytes: it is stale, truncated or not a session_key.
    case invalidSessionKeyLength(Int)
    /// The decoded iv is not 16 bytes (AES block size).
    case invalidIVLength(Int)
    /// The decoded encryptedData is empty or not a multiple of the 16-byte AES block.
    case ciphertextNotBlockAligned(Int)
    /// PKCS#7 padding was wrong after decryption: almost always a session_key that is no longer
    /// the user's current one (another `wx.login` replaced it).
    case badPadding
    /// Decryption succeeded but the plaintext is not a JSON object.
    case decryptedDataNotJSON
    /// `watermark.appid` in the decrypted data is missing or names another app.
    case watermarkAppIDMismatch(expected: String, found: String?)
    /// `signature` is not `sha1(rawData + session_key)`.
    case badSignature

    // MARK: WeChat server API answers

    /// 40029: the login or phone code is invalid or expired.
    case invalidCode
    /// 40163: the login code was already used once.
    case codeUsed
    /// 45011: WeChat's per-user rate limit.
    case rateLimited
    /// 40226: WeChat flags the user as high-risk and refuses the login.
    case riskyUser
    /// 40013: WeChat does not know the appid.
    case invalidAppID
    /// 40125: the app secret is wrong.
    case invalidSecret
    /// -1: WeChat is busy. The same code must not be sent again; the user logs in again.
    case systemBusy
    /// WeChat could not be asked or its answer could not be understood (timeout, connection
    /// failure, non-200 status, non-JSON body).
    case unavailable(reason: String)
    /// WeChat answered with errcode 0, but a field the gateway passes on is unusable: an openid or unionid that
    /// could not be a header value (a control character would start a header line of its own upstream).
    case malformedAnswer(reason: String)
    /// Any other errcode, with WeChat's errmsg.
    case api(errcode: Int, errmsg: String)
}

extension WeChatError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidBase64(let field, let containsSpace):
            if containsSpace {
                return "\(field) is not valid base64: it contains a space, probably a '+' turned into a space by "
                    + "form or URL encoding; send it in a JSON body or percent-encode '+' as %2B"
            }
            return "\(field) is not valid base64"
        case .invalidSessionKeyLength(let count):
            return "session_key decodes to \(count) bytes instead of 16: it is stale, truncated or not a session_key"
        case .invalidIVLength(let count):
            return "iv decodes to \(count) bytes instead of 16"
        case .ciphertextNotBlockAligned(let count):
            return "encryptedData decodes to \(count) bytes, not a non-empty multiple of 16: "
                + "it was truncated or altered"
        case .badPadding:
            return "encryptedData did not decrypt with this session_key (bad padding): the session_key is probably "
                + "stale because the user called wx.login again; log in again and retry"
        case .decryptedDataNotJSON:
            return "decrypted data is not a JSON object: the session_key or iv does not belong to this encryptedData"
        case .watermarkAppIDMismatch(let expected, let found):
            return "watermark.appid is \(found.map { "'\($0)'" } ?? "missing"), expected '\(expected)'"
        case .badSignature:
            return "signature does not match sha1(rawData + session_key): rawData was altered "
                + "or the session_key is stale"
        case .invalidCode:
            return "WeChat rejected the code as invalid or expired (40029)"
        case .codeUsed:
            return "WeChat says the code was already used (40163)"
        case .rateLimited:
            return "WeChat rate limit reached (45011)"
        case .riskyUser:
            return "WeChat blocked a high-risk user (40226)"
        case .invalidAppID:
            return "WeChat does not know this appid (40013)"
        case .invalidSecret:
            return "WeChat rejected the app secret (40125)"
        case .systemBusy:
            return "WeChat is busy (-1)"
        case .unavailable(let reason):
            return "WeChat API unavailable: \(reason)"
        case .malformedAnswer(let reason):
            return "WeChat answer unusable: \(reason)"
        case .api(let errcode, let errmsg):
            return "WeChat API error \(errcode): \(errmsg)"
        }
    }
}
