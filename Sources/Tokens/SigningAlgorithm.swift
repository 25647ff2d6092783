/// A JWS signature algorithm the gateway can sign and verify access tokens with (RFC 7518 section 3, RFC 8037).
///
/// The raw value is the exact `alg` header value; anything else (including `none`) is never accepted.
public enum SigningAlgorithm: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// HMAC with SHA-256 over a shared secret of at least 32 bytes.
    case hs256 = "HS256"
    /// ECDSA on P-256 with SHA-256; signatures are raw `r || s` (64 bytes, RFC 7518 section 3.4).
    case es256 = "ES256"
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a modulus of at least 2048 bits.
    case rs256 = "RS256"
    /// Ed25519 (RFC 8037).
    case eddsa = "EdDSA"

    /// The `alg` header value.
    public var description: String { rawValue }

    /// Whether verification needs only public material (and so may be published in the JWKS).
    public var isAsymmetric: Bool { self != .hs256 }
}
