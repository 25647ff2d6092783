import Crypto
import CryptoExtras

/// One signing or verification key, named by its `kid`, bound to exactly one ``SigningAlgorithm``.
///
/// The algorithm is a property of the key material, never of a token: the verifier only checks a
/// token's signature with the algorithm its key was loaded for, so an HMAC check keyed with a public
/// key's bytes (the classic key-confusion attack) cannot happen. Values are immutable and `Sendable`;
/// secret material is never printed or exported (``jwk`` and ``KeyRing/jwks()`` hold public keys only).
public struct TokenKey: Sendable, CustomStringConvertible {
    /// The key id put in the `kid` header of issued tokens and matched against incoming ones.
    public let kid: String
    let verification: VerificationMaterial
    let signing: SigningMaterial?

    /// The one algorithm this key signs and verifies with.
    public var algorithm: SigningAlgorithm { verification.algorithm }

    /// Whether the key holds private (or shared secret) material and can issue tokens.
    public var canSign: Bool { signing != nil }

    /// Names the key without its material, safe for logs.
    public var description: String {
        "TokenKey(kid: \(kid), algorithm: \(algorithm)\(canSign ? "" : ", verify only"))"
    }

    init(kid: String?, verification: VerificationMaterial, signing: SigningMaterial?) throws(TokenKeyError) {
        if let kid, kid.isEmpty { throw .emptyKeyID }
        self.kid = kid ?? verification.derivedKeyID
        self.verification = verification
        self.signing = signing
    }

    /// An HS256 key from a shared secret of at least 32 bytes.
    ///
    /// Without `kid`, a stable one is derived from a hash of the secret (see ``jwkThumbprint``), which
    /// reveals nothing usable about the secret.
    public static func hmac(secret: some Collection<UInt8>, kid: String? = nil) throws(TokenKeyError) -> TokenKey {
        guard secret.count >= 32 else { throw .secretTooShort(byteCount: secret.count) }
        let key = SymmetricKey(data: Array(secret))
        return try TokenKey(kid: kid, verification: .hmac(key), signing: .hmac(key))
    }

    /// An HS256 key from a shared secret given as text (its UTF-8 bytes are the key, as in most JWT libraries).
    public static func hmac(secret: String, kid: String? = nil) throws(TokenKeyError) -> TokenKey {
        try hmac(secret: Array(secret.utf8), kid: kid)
    }

    /// An ES256 signing key; the public key is derived from it.
    public init(signingKey: P256.Signing.PrivateKey, kid: String? = nil) throws(TokenKeyError) {
        try self.init(kid: kid, verification: .es256(signingKey.publicKey), signing: .es256(signingKey))
    }

    /// An RS256 signing key of at least 2048 bits; the public key is derived from it.
    public init(signingKey: _RSA.Signing.PrivateKey, kid: String? = nil) throws(TokenKeyError) {
        guard signingKey.keySizeInBits >= 2048 else { throw .rsaKeyTooSmall(bits: signingKey.keySizeInBits) }
        try self.init(kid: kid, verification: .rs256(signingKey.publicKey), signing: .rs256(signingKey))
    }

    /// An EdDSA (Ed25519) signing key; the public key is derived from it.
    public init(signingKey: Curve25519.Signing.PrivateKey, kid: String? = nil) throws(TokenKeyError) {
        try self.init(kid: kid, verification: .eddsa(signingKey.publicKey), signing: .eddsa(signingKey))
    }

    /// A verify-only ES256 key (a previous key during rotation).
    public init(verificationKey: P256.Signing.PublicKey, kid: String? = nil) throws(TokenKeyError) {
        try self.init(kid: kid, verification: .es256(verificationKey), signing: nil)
    }

    /// A verify-only RS256 key of at least 2048 bits.
    public init(verificationKey: _RSA.Signing.PublicKey, kid: String? = nil) throws(TokenKeyError) {
        guard verificationKey.keySizeInBits >= 2048 else {
            throw .rsaKeyTooSmall(bits: verificationKey.keySizeInBits)
        }
        try self.init(kid: kid, verification: .rs256(verificationKey), signing: nil)
    }

    /// A verify-only EdDSA (Ed25519) key.
    public init(verificationKey: Curve25519.Signing.PublicKey, kid: String? = nil) throws(TokenKeyError) {
        try self.init(kid: kid, verification: .eddsa(verificationKey), signing: nil)
    }

    /// The same key without its private material.
    public var verificationOnly: TokenKey {
        if case .hmac = verification { return self }  // a shared secret is both halves
        return TokenKey(kid: kid, verification: verification)
    }

    private init(kid: String, verification: VerificationMaterial) {
        self.kid = kid
        self.verification = verification
        self.signing = nil
    }
}
