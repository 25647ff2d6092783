import Foundation
import JSON

/// Verifies the gateway's JWT access tokens (RFC 7519, JWS compact serialization of RFC 7515)
/// synchronously, for the proxy's event loops.
///
/// What it promises, in order of checking:
/// - tokens longer than ``maximumTokenLength`` are rejected before any work;
/// - the signature is checked with a key of the ring and that key's own algorithm only: the header's
///   `alg` must equal it (so never `none`, never an HMAC check keyed with a public key). A `kid` selects
///   one key; without `kid` the current key and then the previous keys of the header's algorithm are tried;
/// - the claims set is decoded once, and only after the signature verified;
/// - `exp` (required), `nbf` and `iat` must be finite dates between 1970 and 9999 and are checked with ``leeway``;
///   `iss` and `aud` must match; `sub` is required; `sub`, `appid` and `unionid` must be usable header values
///   (``IdentityClaim``); `app_kind`, when present, must name an ``AppKind``; a `jti` is looked up in the
///   revocation hook.
public struct AccessTokenVerifier: TokenVerifier {
    /// 8 KiB: far above any token the gateway issues, small enough to bound the work an attacker causes.
    public static let defaultMaximumTokenLength = 8192

    public let keyRing: KeyRing
    /// The required `iss`.
    public let issuer: String
    /// The audience `aud` must contain.
    public let audience: String
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    public let leeway: TimeInterval
    /// Longer tokens are rejected as malformed.
    public let maximumTokenLength: Int
    private let isRevoked: @Sendable (_ jti: String, _ now: Date) -> Bool

    /// - Parameter isRevoked: asked for every token that has a `jti`, on the event loop: it must not block.
    public init(
        keyRing: KeyRing, issuer: String, audience: String, leeway: TimeInterval = 30,
        maximumTokenLength: Int = AccessTokenVerifier.defaultMaximumTokenLength,
        isRevoked: @escaping @Sendable (_ jti: String, _ now: Date) -> Bool = { _, _ in false }
    ) {
        self.keyRing = keyRing
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.maximumTokenLength = maximumTokenLength
        self.isRevoked = isRevoked
    }

    /// A verifier whose revocation check is `revocations`.
    public init(
        keyRing: KeyRing, issuer: String, audience: String, leeway: TimeInterval = 30,
        maximumTokenLength: Int = AccessTokenVerifier.defaultMaximumTokenLength, revocations: RevocationList
    ) {
        self.init(
            keyRing: keyRing, issuer: issuer, audience: audience, leeway: leeway,
            maximumTokenLength: maximumTokenLength, isRevoked: { revocations.isRevoked($0, now: $1) })
    }

    public func verify(_ token: Substring, now: Date) -> TokenVerification {
        guard token.utf8.count <= maximumTokenLength else { return .invalid(.malformed) }
        if let result = token.utf8.withContiguousStorageIfAvailable({
            verify(bytes: UnsafeRawBufferPointer($0), now: now)
        }) {
            return result
        }
        var copy = String(token)
        return copy.withUTF8 { verify(bytes: UnsafeRawBufferPointer($0), now: now) }
    }

    /// The revocation-list key that ends every access token of a login session (`sid`) at once: used on
    /// logout and when a refresh token is replayed (RFC 9700 section 4.14.2), so tokens handed out earlier
    /// in the session stop too, not only the one presented.
    public static func sessionRevocationKey(_ sessionID: String) -> String { "sid:" + sessionID }

    /// Re-checks what can change after a token was verified, on every ``CachingTokenVerifier`` hit: expiry, then
    /// revocation of its `jti`, then of its session. `sessionRevocationKey` is the session's key
    /// (`sessionRevocationKey(_:)`), made once when the entry was stored (nil without a session): no `String` per hit.
    func recheck(_ claims: VerifiedClaims, sessionRevocationKey: String?, now: Date) -> TokenVerification {
        let seconds = now.timeIntervalSince1970
        if seconds >= claims.expiresAt.timeIntervalSince1970 + leeway { return .invalid(.expired) }
        if let jti = claims.jti, isRevoked(jti, now) { return .invalid(.revoked) }
        if let key = sessionRevocationKey, isRevoked(key, now) { return .invalid(.revoked) }
        return .valid(claims)
    }

    private func verify(bytes: UnsafeRawBufferPointer, now: Date) -> TokenVerification {
        guard let firstDot = bytes.firstIndex(of: UInt8(ascii: ".")),
            let secondDot = bytes[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")),
            !bytes[(secondDot + 1)...].contains(UInt8(ascii: ".")),
            firstDot > 0, secondDot > firstDot + 1
        else { return .invalid(.malformed) }

        guard let headerBytes = Base64URL.decode(UnsafeRawBufferPointer(rebasing: bytes[..<firstDot])),
            let header = JSONParser.parseObject(headerBytes),
            header["crit"] == nil,  // RFC 7515 section 4.1.11: no extension is understood here
            let algorithmName = header["alg"]?.string
        else { return .invalid(.malformed) }
        guard let algorithm = SigningAlgorithm(rawValue: algorithmName) else { return .invalid(.unsupportedAlgorithm) }

        // The key, and so the algorithm, comes from the ring; the header only has to agree with it.
        let namedKey: TokenKey?
        switch header["kid"] {
        case .none:
            namedKey = nil
            if keyRing.candidates(for: algorithm).isEmpty { return .invalid(.unsupportedAlgorithm) }
        case .string(let kid)?:
            guard let key = keyRing.key(withID: kid) else { return .invalid(.unknownKey) }
            guard key.algorithm == algorithm else { return .invalid(.unsupportedAlgorithm) }
            namedKey = key
        case _?:
            return .invalid(.malformed)
        }

        guard let signature = Base64URL.decode(UnsafeRawBufferPointer(rebasing: bytes[(secondDot + 1)...])) else {
            return .invalid(.malformed)
        }
        let signingInput = UnsafeRawBufferPointer(rebasing: bytes[..<secondDot])
        let verifyingKey: TokenKey?
        if let namedKey {
            verifyingKey = namedKey.verification.isValidSignature(signature, for: signingInput) ? namedKey : nil
        } else {
            verifyingKey = keyRing.candidates(for: algorithm).first {
                $0.verification.isValidSignature(signature, for: signingInput)
            }
        }
        guard let key = verifyingKey else { return .invalid(.badSignature) }

        guard let payloadBytes = Base64URL.decode(UnsafeRawBufferPointer(rebasing: bytes[(firstDot + 1)..<secondDot])),
            let claims = JSONParser.parseObject(payloadBytes)
        else { return .invalid(.malformed) }
        return check(claims, keyID: key.kid, now: now)
    }

    private func check(_ claims: [String: JSONValue], keyID: String, now: Date) -> TokenVerification {
        let seconds = now.timeIntervalSince1970

        guard let expValue = claims["exp"] else { return .invalid(.missingClaim("exp")) }
        guard let exp = expValue.number else { return .invalid(.malformed) }
        guard let nbf = optionalNumber(claims["nbf"]), let iat = optionalNumber(claims["iat"]) else {
            return .invalid(.malformed)
        }
        let dates: [(name: String, value: Double?)] = [("exp", exp), ("nbf", nbf), ("iat", iat)]
        for (name, value) in dates {
            if let value, !Self.numericDateRange.contains(value) { return .invalid(.invalidClaim(name)) }
        }
        if seconds >= exp + leeway { return .invalid(.expired) }  // RFC 7519 section 4.1.4: now must be before exp
        if let nbf, seconds + leeway < nbf { return .invalid(.notYetValid) }
        if let iat, iat > seconds + leeway { return .invalid(.issuedInFuture) }

        switch claims["iss"] {
        case .none: return .invalid(.missingClaim("iss"))
        case .string(let iss)?: if iss != issuer { return .invalid(.wrongIssuer) }
        case _?: return .invalid(.malformed)
        }

        switch claims["aud"] {
        case .none:
            return .invalid(.missingClaim("aud"))
        case .string(let aud)?:
            if aud != audience { return .invalid(.wrongAudience) }
        case .array(let audiences)?:
            var matched = false
            for aud in audiences {
                guard let aud = aud.string else { return .invalid(.malformed) }
                if aud == audience { matched = true }
            }
            if !matched { return .invalid(.wrongAudience) }
        case _?:
            return .invalid(.malformed)
        }

        let subject: String
        switch claims["sub"] {
        case .none: return .invalid(.missingClaim("sub"))
        case .string(let sub)?:
            // An empty subject would become an empty identity header upstream.
            if sub.isEmpty { return .invalid(.missingClaim("sub")) }
            subject = sub
        case _?: return .invalid(.malformed)
        }

        guard let jti = optionalString(claims["jti"]), let appid = optionalString(claims["appid"]),
            let unionid = optionalString(claims["unionid"]), let sessionID = optionalString(claims["sid"]),
            let kindText = optionalString(claims[AppKind.claim])
        else { return .invalid(.malformed) }
        // Absent: a token from before app kinds, when every app was a mini-program. Any other text is no kind the
        // gateway issues, and would reach the upstream as X-App-Kind.
        let appKind = kindText.map { AppKind(rawValue: $0) } ?? .miniprogram
        guard let appKind else { return .invalid(.invalidClaim(AppKind.claim)) }
        // These three become header lines upstream: a signature proves who wrote a value, not that it is safe to
        // write into a request (a key can sign what an operator minted by mistake, or leak).
        let identities: [(name: String, value: String?)] = [("sub", subject), ("appid", appid), ("unionid", unionid)]
        for (name, value) in identities {
            if let value, !IdentityClaim.isAcceptable(value) { return .invalid(.invalidClaim(name)) }
        }

        if let jti, isRevoked(jti, now) { return .invalid(.revoked) }
        if let sessionID, isRevoked(Self.sessionRevocationKey(sessionID), now) { return .invalid(.revoked) }

        return .valid(
            VerifiedClaims(
                subject: subject, appid: appid, unionid: unionid, jti: jti, issuer: issuer, audience: audience,
                expiresAt: Date(timeIntervalSince1970: exp), issuedAt: iat.map(Date.init(timeIntervalSince1970:)),
                keyID: keyID, sessionID: sessionID, appKind: appKind))
    }

    /// NumericDates (RFC 7519 section 2) the gateway acts on: 1970-01-01 to 9999-12-31T23:59:59Z. `1e400` parses
    /// as infinity, which as `exp` would never expire; a negative or absurd date is no date a gateway issues.
    static let numericDateRange: ClosedRange<Double> = 0...253_402_300_799

    /// `.some(nil)` when absent, `.some(value)` for a number, nil (malformed) for any other type.
    private func optionalNumber(_ value: JSONValue?) -> Double?? {
        guard let value else { return .some(nil) }
        return value.number.map { .some($0) }
    }

    /// `.some(nil)` when absent, `.some(value)` for a string, nil (malformed) for any other type.
    private func optionalString(_ value: JSONValue?) -> String?? {
        switch value {
        case .none: return .some(nil)
        case .string(let string)?: return .some(string)
        case _?: return nil
        }
    }
}
