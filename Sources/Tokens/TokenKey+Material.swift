import Crypto
import CryptoExtras

extension TokenKey {
    /// What checks a signature; the case fixes the algorithm.
    enum VerificationMaterial: Sendable {
        case hmac(SymmetricKey)
        case es256(P256.Signing.PublicKey)
        case rs256(_RSA.Signing.PublicKey)
        case eddsa(Curve25519.Signing.PublicKey)

        var algorithm: SigningAlgorithm {
            switch self {
            case .hmac: return .hs256
            case .es256: return .es256
            case .rs256: return .rs256
            case .eddsa: return .eddsa
            }
        }

        /// Checks `signature` over `signingInput` (RFC 7515 section 5.2 step 8) with this key's one algorithm.
        func isValidSignature(_ signature: [UInt8], for signingInput: UnsafeRawBufferPointer) -> Bool {
            switch self {
            case .hmac(let key):
                // Constant-time comparison inside swift-crypto.
                return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key)
            case .es256(let key):
                // RFC 7518 section 3.4: JWS carries raw r || s, not DER.
                guard signature.count == 64,
                    let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
                else { return false }
                return key.isValidSignature(parsed, for: signingInput)
            case .rs256(let key):
                guard signature.count * 8 == key.keySizeInBits else { return false }
                let digest = SHA256.hash(data: signingInput)
                return key.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
            case .eddsa(let key):
                guard signature.count == 64 else { return false }
                return key.isValidSignature(signature, for: signingInput)
            }
        }
    }

    /// What produces a signature; present only for keys that can issue tokens.
    enum SigningMaterial: Sendable {
        case hmac(SymmetricKey)
        case es256(P256.Signing.PrivateKey)
        case rs256(_RSA.Signing.PrivateKey)
        case eddsa(Curve25519.Signing.PrivateKey)

        func signature(for signingInput: [UInt8]) throws -> [UInt8] {
            switch self {
            case .hmac(let key):
                return Array(HMAC<SHA256>.authenticationCode(for: signingInput, using: key))
            case .es256(let key):
                return Array(try key.signature(for: signingInput).rawRepresentation)
            case .rs256(let key):
                return Array(try key.signature(for: signingInput, padding: .insecurePKCS1v1_5).rawRepresentation)
            case .eddsa(let key):
                return Array(try key.signature(for: signingInput))
            }
        }
    }
}
