import Foundation
import JSON

/// Signs access tokens with the ring's current key (docs/architecture.md, "The control plane": `iss`, `aud`, `sub`,
/// `exp`, `iat`, `jti`, `appid`, `sid`, `app_kind`, and `unionid` when known; header `alg`, `kid`, `typ`).
///
/// Synchronous and signed with swift-crypto directly, the same primitives the verifier checks with;
/// `exp` and `iat` are whole seconds (RFC 7519 NumericDate).
public struct TokenIssuer: Sendable {
    public let keyRing: KeyRing
    public let issuer: String
    public let audience: String
    private let makeTokenID: @Sendable () -> String

    /// - Parameter makeTokenID: produces each `jti`; the default is 128 random bits (tests inject a fixed one).
    public init(
        keyRing: KeyRing, issuer: String, audience: String,
        makeTokenID: @escaping @Sendable () -> String = TokenIssuer.randomTokenID
    ) {
        self.keyRing = keyRing
        self.issuer = issuer
        self.audience = audience
        self.makeTokenID = makeTokenID
    }

    /// 128 bits from the system's cryptographic generator, as 32 lowercase hex digits.
    @Sendable public static func randomTokenID() -> String {
        RandomBytes.hex(byteCount: 16)
    }

    /// Signs a token for `subject` (the openid) valid for `ttl` seconds from `now`.
    public func issue(
        subject: String, appid: String? = nil, unionid: String? = nil, sessionID: String? = nil,
        appKind: AppKind? = nil, ttl: TimeInterval, now: Date
    ) throws(TokenIssueError) -> IssuedToken {
        guard !subject.isEmpty else { throw .emptySubject }
        // The verifier refuses these values anyway; refusing them here says so where the mistake is made.
        let identities: [(claim: String, value: String?)] = [("sub", subject), ("appid", appid), ("unionid", unionid)]
        for (claim, value) in identities {
            if let value, let problem = IdentityClaim.problem(with: value) {
                throw .unusableIdentity(claim: claim, problem: problem)
            }
        }
        guard ttl >= 1, ttl.isFinite else { throw .invalidLifetime(ttl) }
        let key = keyRing.current
        guard let signer = key.signing else {
            // KeyRing refuses a current key without signing material; kept for completeness.
            throw .signingFailed("the current key cannot sign")
        }

        let issuedAt = Int64(now.timeIntervalSince1970.rounded(.down))
        let expiresAt = issuedAt + Int64(ttl.rounded())
        let jti = makeTokenID()

        let header =
            "{\"alg\":\(JSONString.quoted(key.algorithm.rawValue)),\"kid\":\(JSONString.quoted(key.kid)),"
            + "\"typ\":\"JWT\"}"
        var claims =
            "{\"iss\":\(JSONString.quoted(issuer)),\"aud\":\(JSONString.quoted(audience)),"
            + "\"sub\":\(JSONString.quoted(subject)),\"exp\":\(expiresAt),\"iat\":\(issuedAt),"
            + "\"jti\":\(JSONString.quoted(jti))"
        if let appid { claims += ",\"appid\":\(JSONString.quoted(appid))" }
        if let unionid { claims += ",\"unionid\":\(JSONString.quoted(unionid))" }
        if let sessionID { claims += ",\"sid\":\(JSONString.quoted(sessionID))" }
        if let appKind { claims += ",\"\(AppKind.claim)\":\(JSONString.quoted(appKind.rawValue))" }
        claims += "}"

        let signingInput = Base64URL.encode(header.utf8) + "." + Base64URL.encode(claims.utf8)
        let signature: [UInt8]
        do {
            signature = try signer.signature(for: Array(signingInput.utf8))
        } catch {
            throw .signingFailed(String(describing: type(of: error)))
        }
        return IssuedToken(
            token: signingInput + "." + Base64URL.encode(signature), jti: jti,
            expiresAt: Date(timeIntervalSince1970: TimeInterval(expiresAt)),
            issuedAt: Date(timeIntervalSince1970: TimeInterval(issuedAt)))
    }
}
