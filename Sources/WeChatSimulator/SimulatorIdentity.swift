import Crypto
import Foundation
import JSON
import WeChat

/// How the simulator turns a code into a user: stable, so the same code text always gives the
/// same openid for an app, and `+union` codes get a unionid shared across apps.
enum SimulatorIdentity {
    static let unionSuffix = "+union"

    static func openID(appID: String, code: String) -> String {
        let base = stripUnion(code)
        if base.hasPrefix("openid:") { return String(base.dropFirst("openid:".count)) }
        return derive("openid|" + appID + "|" + base)
    }

    /// Only codes ending in `+union` stand for an app bound to an Open Platform account.
    static func unionID(code: String) -> String? {
        guard code.hasSuffix(unionSuffix) else { return nil }
        let base = stripUnion(code)
        let user = base.hasPrefix("openid:") ? String(base.dropFirst("openid:".count)) : base
        return derive("unionid|" + user)
    }

    /// A code `phone:NUMBER` gives that number; any other a stable mainland mobile number.
    static func purePhoneNumber(code: String) -> String {
        if code.hasPrefix("phone:") { return String(code.dropFirst("phone:".count)) }
        let digest = Array(SHA256.hash(data: Data(code.utf8)))
        let digits = digest.prefix(8).map { String($0 % 10) }.joined()
        return "138" + digits
    }

    /// The nickname of a simulated web user: its name without `openid:` and `+union`.
    static func nickname(user: String) -> String {
        let base = stripUnion(user)
        return base.hasPrefix("openid:") ? String(base.dropFirst("openid:".count)) : base
    }

    /// 28 characters like WeChat's ids: "o" + base64url(sha256(seed)), cut to 27.
    static func derive(_ seed: String) -> String {
        "o" + String(Base64URL.encode(Array(SHA256.hash(data: Data(seed.utf8)))).prefix(27))
    }

    private static func stripUnion(_ code: String) -> String {
        code.hasSuffix(unionSuffix) ? String(code.dropLast(unionSuffix.count)) : code
    }
}
