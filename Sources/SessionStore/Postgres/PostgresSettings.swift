import NIOSSL
import PostgresNIO

/// How the PostgreSQL store connects: the URL's location and `sslmode`, and `[store]`'s pool size, timeout
/// and CA file, resolved into postgres-nio configurations. Pure apart from reading `ca_file`.
///
/// `sslmode` (`PostgresSSLMode`, libpq's names) maps onto postgres-nio's TLS choices: `disable` is
/// `.disable`; `allow` and `prefer` are `.prefer` without certificate checks; `require`, `verify-ca` and
/// `verify-full` are `.require`, checking nothing, the chain, or the chain and the host name. Without
/// `sslmode` it is `verify-full`.
struct PostgresSettings: Sendable {
    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String
    var sslMode: PostgresSSLMode
    /// Whether the url left `sslmode` out, so that an error can say the mode is the default.
    var sslModeIsDefault: Bool
    var caFile: String?
    var options: SessionStoreOptions

    init(_ location: StoreURL.PostgresLocation, options: SessionStoreOptions) throws(SessionStoreError) {
        host = location.host
        port = location.port
        username = location.user ?? "postgres"
        password = location.password
        database = location.database
        self.options = options
        caFile = options.caFile
        sslMode = try PostgresSSLMode(parameter: location.parameters["sslmode"])
        sslModeIsDefault = location.parameters["sslmode"] == nil
        if let conflict = sslMode.conflict(withCAFile: caFile) {
            throw .invalidSetting(key: "url", reason: conflict)
        }
        guard (1...1000).contains(options.poolSize) else {
            throw .invalidSetting(key: "pool_size", reason: "must be between 1 and 1000")
        }
    }

    /// The TLS configuration `sslMode` and `caFile` call for; `nil` for plain text.
    func tlsConfiguration() throws(SessionStoreError) -> TLSConfiguration? {
        guard let verification = sslMode.certificateVerification(hasCAFile: caFile != nil) else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw .invalidSetting(key: "ca_file", reason: "cannot read PEM certificates from \(caFile): \(error)")
            }
        }
        tls.certificateVerification = verification
        return tls
    }

    /// Each statement is bounded on the server too, so a lock wait or a runaway query ends there rather
    /// than holding a pooled connection after the caller has given up.
    private var timeoutMilliseconds: Int64 {
        max(
            1,
            options.timeout.components.seconds * 1000 + options.timeout.components.attoseconds / 1_000_000_000_000_000)
    }

    private var startupParameters: [(String, String)] {
        let milliseconds = timeoutMilliseconds
        return [
            ("statement_timeout", "\(milliseconds)"),
            ("idle_in_transaction_session_timeout", "\(milliseconds * 2)"),
            ("application_name", "wechat-gateway"),
        ]
    }

    func clientConfiguration() throws(SessionStoreError) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch (sslMode.negotiation, try tlsConfiguration()) {
        case (.never, _), (_, nil): tls = .disable
        case (.ifOffered, let config?): tls = .prefer(config)
        case (.always, let config?): tls = .require(config)
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = options.poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = options.timeout
        configuration.options.additionalStartupParameters = startupParameters
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(15))
        return configuration
    }

    func connectionConfiguration() throws(SessionStoreError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch (sslMode.negotiation, try tlsConfiguration()) {
            case (.never, _), (_, nil): tls = .disable
            case (.ifOffered, let config?): tls = .prefer(try NIOSSLContext(configuration: config))
            case (.always, let config?): tls = .require(try NIOSSLContext(configuration: config))
            }
        } catch let error as SessionStoreError {
            throw error
        } catch {
            throw .invalidSetting(key: "ca_file", reason: "cannot build a TLS context: \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .milliseconds(timeoutMilliseconds)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }
}
