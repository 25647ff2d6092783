/// Why a signing or verification key could not be loaded into a ``TokenKey`` or ``KeyRing``.
///
/// Raised once, at configuration load; the message names the problem without ever quoting secret material.
public enum TokenKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text is not a PEM document this algorithm can read (detail says what was wrong).
    case badPEM(algorithm: SigningAlgorithm, detail: String)
    /// The PEM holds a key of another type than the algorithm needs (`found` names what it holds).
    case wrongKeyType(algorithm: SigningAlgorithm, found: String)
    /// A public-key PEM was given where a private key is needed to sign.
    case publicKeyWhereSigningKeyNeeded(algorithm: SigningAlgorithm)
    /// An HMAC secret shorter than the 32 bytes RFC 7518 section 3.2 requires for HS256.
    case secretTooShort(byteCount: Int)
    /// An RSA modulus under 2048 bits (RFC 7518 section 3.3).
    case rsaKeyTooSmall(bits: Int)
    /// The algorithm cannot be used with this kind of material (an HMAC secret given as PEM, or the reverse).
    case materialNotForAlgorithm(SigningAlgorithm)
    /// An explicitly given `kid` was empty.
    case emptyKeyID
    /// Two keys of one ring share a `kid`, so a token's `kid` would not name one key.
    case duplicateKeyID(String)
    /// The ring's current key holds only public material, so it cannot issue tokens.
    case currentKeyCannotSign(kid: String)

    public var description: String {
        switch self {
        case .badPEM(let algorithm, let detail):
            return "not a valid PEM key for \(algorithm): \(detail)"
        case .wrongKeyType(let algorithm, let found):
            return
                "wrong key type for \(algorithm): the PEM holds \(found), \(algorithm) needs \(algorithm.keyTypeName)"
        case .publicKeyWhereSigningKeyNeeded(let algorithm):
            return "a public key was given but signing with \(algorithm) needs the private key"
        case .secretTooShort(let byteCount):
            return "HS256 secret is \(byteCount) bytes; at least 32 bytes are required (RFC 7518 section 3.2)"
        case .rsaKeyTooSmall(let bits):
            return "RSA key is \(bits) bits; RS256 requires at least 2048 bits"
        case .materialNotForAlgorithm(let algorithm):
            return algorithm == .hs256
                ? "HS256 takes a shared secret, not a PEM key"
                : "\(algorithm) takes a PEM key, not a shared secret"
        case .emptyKeyID:
            return "a key id (kid) must not be empty"
        case .duplicateKeyID(let kid):
            return "two keys share the key id (kid) \"\(kid)\""
        case .currentKeyCannotSign(let kid):
            return "the current key \"\(kid)\" is public only; the current key must be able to sign"
        }
    }
}

extension SigningAlgorithm {
    /// What kind of key the algorithm needs, for error messages.
    var keyTypeName: String {
        switch self {
        case .hs256: return "a shared secret"
        case .es256: return "an EC P-256 key"
        case .rs256: return "an RSA key of at least 2048 bits"
        case .eddsa: return "an Ed25519 key"
        }
    }
}
