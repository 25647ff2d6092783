/// `[tokens]`: how access tokens are signed and checked, and how long tokens live.
public struct TokensConfig: Sendable, Equatable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case hs256 = "HS256"
        case es256 = "ES256"
        case rs256 = "RS256"
        case eddsa = "EdDSA"
    }

    /// Where a key's material comes from. HMAC secrets are kept in memory only; PEM files are read at load.
    public enum KeySource: Sendable, Equatable, CustomStringConvertible {
        case secret(String)
        case privateKeyFile(String)
        case publicKeyFile(String)

        public var description: String {
            switch self {
            case .secret: return "secret(<redacted>)"
            case .privateKeyFile(let path): return "private_key(\(path))"
            case .publicKeyFile(let path): return "public_key(\(path))"
            }
        }
    }

    /// A key still accepted for verification during a rotation (`previous_keys`).
    public struct PreviousKey: Sendable, Equatable {
        /// `tokens.previous_keys[i]`, for messages about this entry.
        public var path: String
        public var kid: String?
        public var algorithm: Algorithm
        public var source: KeySource
    }

    public var issuer = "gateway"
    public var audience = "legacy-api"
    public var algorithm = Algorithm.hs256
    public var signingKey = KeySource.secret("")
    /// The `kid` header of issued tokens; derived from the key when not set.
    public var kid: String?
    public var previousKeys: [PreviousKey] = []
    public var accessTTL = Duration.seconds(15 * 60)
    public var refreshTTL = Duration.seconds(30 * 86_400)
    public var leeway = Duration.seconds(30)

    public init() {}

    /// RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output.
    static let minimumSecretBytes = 32

    static func decode(_ reader: ConfigReader?) -> TokensConfig {
        var config = TokensConfig()
        guard let reader else {
            return config
        }
        if let issuer = reader.string("issuer") { config.issuer = issuer }
        if let audience = reader.string("audience") { config.audience = audience }
        if let text = reader.string("algorithm") {
            if let algorithm = Algorithm(rawValue: text) {
                config.algorithm = algorithm
            } else {
                let names = Algorithm.allCases.map(\.rawValue).joined(separator: ", ")
                reader.report("algorithm", "\"\(text)\" is not supported (\(names))")
            }
        }
        config.signingKey =
            keySource(reader, algorithm: config.algorithm, allowPublicOnly: false)
            ?? .secret("")
        config.kid = reader.string("kid")
        for previous in reader.tableArray("previous_keys") ?? [] {
            let kid = previous.string("kid")
            var algorithm = config.algorithm
            if let text = previous.string("algorithm") {
                if let parsed = Algorithm(rawValue: text) {
                    algorithm = parsed
                } else {
                    previous.report("algorithm", "\"\(text)\" is not supported")
                }
            }
            if let source = keySource(previous, algorithm: algorithm, allowPublicOnly: true) {
                config.previousKeys.append(
                    PreviousKey(path: previous.path, kid: kid, algorithm: algorithm, source: source))
            }
            previous.rejectUnknownKeys()
        }
        for (key, keyPath) in [
            ("access_ttl", \TokensConfig.accessTTL), ("refresh_ttl", \TokensConfig.refreshTTL),
        ] {
            if let duration = reader.duration(key) {
                if duration > .zero {
                    config[keyPath: keyPath] = duration
                } else {
                    reader.report(key, "must be greater than zero")
                }
            }
        }
        if let leeway = reader.duration("leeway") {
            if leeway <= .seconds(300) {
                config.leeway = leeway
            } else {
                reader.report("leeway", "must be at most 5m (clock skew, not a grace period)")
            }
        }
        if config.accessTTL >= config.refreshTTL {
            reader.report("access_ttl", "must be shorter than refresh_ttl")
        }
        reader.rejectUnknownKeys()
        return config
    }

    /// Reads `secret`, `private_key` or (for previous keys) `public_key`, whichever the algorithm needs.
    private static func keySource(_ reader: ConfigReader, algorithm: Algorithm, allowPublicOnly: Bool) -> KeySource? {
        let secret = reader.string("secret")
        let privateKey = reader.string("private_key")
        let publicKey = allowPublicOnly ? reader.string("public_key") : nil
        // A value that is present but failed (an unset ${VAR}, a wrong type) was reported already.
        let failed =
            (reader.has("secret") && secret == nil) || (reader.has("private_key") && privateKey == nil)
            || (allowPublicOnly && reader.has("public_key") && publicKey == nil)
        if failed { return nil }
        if algorithm == .hs256 {
            if privateKey != nil { reader.report("private_key", "is not used with HS256 (use secret)") }
            if publicKey != nil { reader.report("public_key", "is not used with HS256 (use secret)") }
            guard let secret else {
                reader.report("secret", "is required with HS256")
                return nil
            }
            guard secret.utf8.count >= minimumSecretBytes else {
                reader.report(
                    "secret", "must be at least \(minimumSecretBytes) bytes for HS256 (it has \(secret.utf8.count))")
                return nil
            }
            return .secret(secret)
        }
        if secret != nil {
            reader.report("secret", "is only used with HS256; \(algorithm.rawValue) needs a PEM key file")
        }
        switch (privateKey, publicKey) {
        case (let path?, nil): return .privateKeyFile(path)
        case (nil, let path?): return .publicKeyFile(path)
        case (.some, .some):
            reader.report("public_key", "give either private_key or public_key, not both")
            return nil
        case (nil, nil):
            reader.report(allowPublicOnly ? "public_key" : "private_key", "is required with \(algorithm.rawValue)")
            return nil
        }
    }
}
