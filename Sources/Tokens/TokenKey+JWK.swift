import Crypto
import CryptoExtras
import JSON

extension TokenKey {
    /// The public key as a JWK (RFC 7517) with `kid`, `alg` and `use: "sig"`, or nil for an HMAC key,
    /// whose only material is the secret.
    public var jwk: String? {
        guard verification.algorithm.isAsymmetric else { return nil }
        var members = verification.publicMembers.map { "\(JSONString.quoted($0.0)):\(JSONString.quoted($0.1))" }
        members.append("\"kid\":\(JSONString.quoted(kid))")
        members.append("\"alg\":\(JSONString.quoted(algorithm.rawValue))")
        members.append("\"use\":\"sig\"")
        return "{" + members.joined(separator: ",") + "}"
    }

    /// The RFC 7638 JWK thumbprint of the key (base64url SHA-256 of its canonical JWK members).
    ///
    /// For an HMAC key this hashes the secret, which is no more than any HS256 token already reveals.
    public var jwkThumbprint: String {
        Base64URL.encode(verification.thumbprintDigest)
    }
}

extension TokenKey.VerificationMaterial {
    /// The members RFC 7638 section 3.2 requires, in lexicographic order of their names.
    var publicMembers: [(String, String)] {
        switch self {
        case .hmac(let key):
            return [("k", key.withUnsafeBytes { Base64URL.encode($0) }), ("kty", "oct")]
        case .es256(let key):
            let raw = Array(key.rawRepresentation)  // x || y, 32 bytes each
            return [
                ("crv", "P-256"), ("kty", "EC"), ("x", Base64URL.encode(raw[0..<32])),
                ("y", Base64URL.encode(raw[32..<64])),
            ]
        case .rs256(let key):
            // swift-crypto returns minimal big-endian integers (BN_bn2bin), as RFC 7518 section 6.3.1 wants.
            let primitives: _RSA.Signing.PublicKey.Primitives? = try? key.getKeyPrimitives()
            let n: [UInt8] = primitives.map { Array($0.modulus.drop { $0 == 0 }) } ?? []
            let e: [UInt8] = primitives.map { Array($0.publicExponent.drop { $0 == 0 }) } ?? []
            return [("e", Base64URL.encode(e)), ("kty", "RSA"), ("n", Base64URL.encode(n))]
        case .eddsa(let key):
            return [("crv", "Ed25519"), ("kty", "OKP"), ("x", Base64URL.encode(key.rawRepresentation))]
        }
    }

    var thumbprintDigest: [UInt8] {
        let json = "{" + publicMembers.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",") + "}"
        return Array(SHA256.hash(data: Array(json.utf8)))
    }

    /// The first 8 bytes of the RFC 7638 thumbprint: stable across restarts and instances, short in headers.
    var derivedKeyID: String {
        Base64URL.encode(thumbprintDigest.prefix(8))
    }
}
