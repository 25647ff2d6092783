import Crypto
import CryptoExtras

extension TokenKey {
    /// A signing key for `algorithm` from a PEM private key (PKCS#8 `PRIVATE KEY`, or SEC1 `EC PRIVATE KEY` /
    /// PKCS#1 `RSA PRIVATE KEY`); the public key is derived from it.
    public static func privateKey(
        pem: String, algorithm: SigningAlgorithm, kid: String? = nil
    ) throws(TokenKeyError) -> TokenKey {
        do {
            switch algorithm {
            case .hs256:
                throw TokenKeyError.materialNotForAlgorithm(.hs256)
            case .es256:
                return try TokenKey(signingKey: try P256.Signing.PrivateKey(pemRepresentation: pem), kid: kid)
            case .rs256:
                return try TokenKey(signingKey: try _RSA.Signing.PrivateKey(pemRepresentation: pem), kid: kid)
            case .eddsa:
                return try TokenKey(signingKey: try Curve25519.Signing.PrivateKey(pemRepresentation: pem), kid: kid)
            }
        } catch let error as TokenKeyError {
            throw error
        } catch {
            throw explainFailure(pem: pem, algorithm: algorithm, wantsPrivateKey: true, error: error)
        }
    }

    /// A verify-only key for `algorithm` from a PEM public key (`PUBLIC KEY`); a private key PEM is also
    /// accepted and only its public half kept. Used for `previous_keys` during rotation.
    public static func publicKey(
        pem: String, algorithm: SigningAlgorithm, kid: String? = nil
    ) throws(TokenKeyError) -> TokenKey {
        if Self.isPrivateKeyPEM(pem) {
            return try privateKey(pem: pem, algorithm: algorithm, kid: kid).verificationOnly
        }
        do {
            switch algorithm {
            case .hs256:
                throw TokenKeyError.materialNotForAlgorithm(.hs256)
            case .es256:
                return try TokenKey(verificationKey: try P256.Signing.PublicKey(pemRepresentation: pem), kid: kid)
            case .rs256:
                return try TokenKey(verificationKey: try _RSA.Signing.PublicKey(pemRepresentation: pem), kid: kid)
            case .eddsa:
                return try TokenKey(
                    verificationKey: try Curve25519.Signing.PublicKey(pemRepresentation: pem), kid: kid)
            }
        } catch let error as TokenKeyError {
            throw error
        } catch {
            throw explainFailure(pem: pem, algorithm: algorithm, wantsPrivateKey: false, error: error)
        }
    }

    /// A key from a PEM that may hold either half: signing when it is a private key, verify-only otherwise.
    public static func pem(
        _ pem: String, algorithm: SigningAlgorithm, kid: String? = nil
    ) throws(TokenKeyError)
        -> TokenKey
    {
        isPrivateKeyPEM(pem)
            ? try privateKey(pem: pem, algorithm: algorithm, kid: kid)
            : try publicKey(pem: pem, algorithm: algorithm, kid: kid)
    }

    static func isPrivateKeyPEM(_ pem: String) -> Bool {
        guard let begin = pem.range(of: "-----BEGIN ") else { return false }
        let label = pem[begin.upperBound...].prefix { $0 != "-" && $0 != "\n" }
        return label.hasSuffix("PRIVATE KEY")
    }

    /// Turns a parser failure into the most useful message: the wrong kind of key, a too small RSA
    /// key, a public key where a private one is needed, or a document that is not a key at all.
    private static func explainFailure(
        pem: String, algorithm: SigningAlgorithm, wantsPrivateKey: Bool, error: any Error
    ) -> TokenKeyError {
        guard pem.contains("-----BEGIN ") else {
            return .badPEM(algorithm: algorithm, detail: "no \"-----BEGIN\" line; expected PEM text")
        }
        guard let found = identifyKey(pem: pem) else {
            return .badPEM(algorithm: algorithm, detail: "the PEM could not be decoded as a key")
        }
        if found.algorithm == algorithm {
            if let bits = found.rsaBits, bits < 2048 { return .rsaKeyTooSmall(bits: bits) }
            if wantsPrivateKey && !found.isPrivate { return .publicKeyWhereSigningKeyNeeded(algorithm: algorithm) }
            return .badPEM(algorithm: algorithm, detail: "the key could not be loaded (\(type(of: error)))")
        }
        return .wrongKeyType(algorithm: algorithm, found: found.name)
    }

    private struct IdentifiedKey {
        var name: String
        var algorithm: SigningAlgorithm?
        var isPrivate: Bool
        var rsaBits: Int? = nil
    }

    private static func identifyKey(pem: String) -> IdentifiedKey? {
        if (try? P256.Signing.PrivateKey(pemRepresentation: pem)) != nil {
            return IdentifiedKey(name: "an EC P-256 private key", algorithm: .es256, isPrivate: true)
        }
        if (try? P256.Signing.PublicKey(pemRepresentation: pem)) != nil {
            return IdentifiedKey(name: "an EC P-256 public key", algorithm: .es256, isPrivate: false)
        }
        if (try? P384.Signing.PrivateKey(pemRepresentation: pem)) != nil
            || (try? P384.Signing.PublicKey(pemRepresentation: pem)) != nil
        {
            return IdentifiedKey(name: "an EC P-384 key", algorithm: nil, isPrivate: false)
        }
        if (try? P521.Signing.PrivateKey(pemRepresentation: pem)) != nil
            || (try? P521.Signing.PublicKey(pemRepresentation: pem)) != nil
        {
            return IdentifiedKey(name: "an EC P-521 key", algorithm: nil, isPrivate: false)
        }
        if let key = try? _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem) {
            return IdentifiedKey(
                name: "an RSA private key", algorithm: .rs256, isPrivate: true, rsaBits: key.keySizeInBits)
        }
        if let key = try? _RSA.Signing.PublicKey(unsafePEMRepresentation: pem) {
            return IdentifiedKey(
                name: "an RSA public key", algorithm: .rs256, isPrivate: false, rsaBits: key.keySizeInBits)
        }
        if (try? Curve25519.Signing.PrivateKey(pemRepresentation: pem)) != nil {
            return IdentifiedKey(name: "an Ed25519 private key", algorithm: .eddsa, isPrivate: true)
        }
        if (try? Curve25519.Signing.PublicKey(pemRepresentation: pem)) != nil {
            return IdentifiedKey(name: "an Ed25519 public key", algorithm: .eddsa, isPrivate: false)
        }
        if (try? Curve25519.KeyAgreement.PrivateKey(pemRepresentation: pem)) != nil
            || (try? Curve25519.KeyAgreement.PublicKey(pemRepresentation: pem)) != nil
        {
            return IdentifiedKey(name: "an X25519 key-agreement key", algorithm: nil, isPrivate: false)
        }
        return nil
    }
}
