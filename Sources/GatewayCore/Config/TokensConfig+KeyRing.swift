import Foundation
import Tokens

extension TokensConfig.Algorithm {
    var signingAlgorithm: SigningAlgorithm {
        switch self {
        case .hs256: return .hs256
        case .es256: return .es256
        case .rs256: return .rs256
        case .eddsa: return .eddsa
        }
    }
}

extension TokensConfig {
    /// Loads the keys named by `[tokens]` into the immutable ring used to sign and verify.
    /// Key files are read here, once, at load or reload; errors come back as config issues.
    public func makeKeyRing() -> Result<KeyRing, ConfigError> {
        var issues: [ConfigIssue] = []
        func load(_ source: KeySource, algorithm: Algorithm, kid: String?, path: String) -> TokenKey? {
            do {
                switch source {
                case .secret(let secret):
                    return try TokenKey.hmac(secret: secret, kid: kid)
                case .privateKeyFile(let file):
                    let pem = try String(contentsOfFile: file, encoding: .utf8)
                    return try TokenKey.privateKey(pem: pem, algorithm: algorithm.signingAlgorithm, kid: kid)
                case .publicKeyFile(let file):
                    let pem = try String(contentsOfFile: file, encoding: .utf8)
                    return try TokenKey.publicKey(pem: pem, algorithm: algorithm.signingAlgorithm, kid: kid)
                }
            } catch let error as TokenKeyError {
                issues.append(ConfigIssue(path: path, message: error.description))
            } catch {
                issues.append(
                    ConfigIssue(path: path, message: "cannot read the key file: \(error.localizedDescription)"))
            }
            return nil
        }
        let currentPath: String
        switch signingKey {
        case .secret: currentPath = "tokens.secret"
        case .privateKeyFile, .publicKeyFile: currentPath = "tokens.private_key"
        }
        let current = load(signingKey, algorithm: algorithm, kid: kid, path: currentPath)
        var previous: [TokenKey] = []
        for key in previousKeys {
            if let loaded = load(key.source, algorithm: key.algorithm, kid: key.kid, path: key.path) {
                previous.append(loaded)
            }
        }
        guard issues.isEmpty, let current else {
            return .failure(ConfigError(file: "", issues: issues))
        }
        do {
            return .success(try KeyRing(current: current, previous: previous))
        } catch {
            return .failure(ConfigError(file: "", issues: [ConfigIssue(path: "tokens", message: error.description)]))
        }
    }
}

extension TokensConfig {
    /// An access token signed with the configured key, as `/auth/login` would issue it (`gateway token mint`:
    /// ops and benchmarks). Throws the key-loading `ConfigError` or the issuer's refusal.
    public func mintAccessToken(
        subject: String, appid: String?, unionid: String?, appKind: AppKind? = nil, ttl: Duration, now: Date = Date()
    ) throws -> String {
        let ring = try makeKeyRing().get()
        return try TokenIssuer(keyRing: ring, issuer: issuer, audience: audience)
            .issue(subject: subject, appid: appid, unionid: unionid, appKind: appKind, ttl: ttl.seconds, now: now)
            .token
    }
}

extension TokensConfig {
    /// Why `value` could not be an identity claim (it becomes a header line upstream), or nil when it can.
    public static func identityClaimProblem(_ value: String) -> String? {
        IdentityClaim.problem(with: value)
    }
}
