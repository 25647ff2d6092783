import NIOSSL
import PostgresNIO

/// How the PostgreSQL store connects: the URL's location and `sslmode`, and `[store]`'s pool size, timeout
/// and CA file, resolved into postgres-nio configurations. Pure apart from reading `ca_file`.
///
/// `sslmode` follows libpq's meaning of the names it accepts:
/// - `disable`: plain TCP;
/// - `prefer` (libpq's default, and ours): TLS when the server offers it, without certificate checks;
/// - `require`: TLS or no connection; the certificate is checked only when `ca_file` is set (libpq
///   checks it when it finds a root certificate file);
/// - `verify-ca`, `verify-full`: TLS with the chain checked against `ca_file` (or the system roots), and
///   with `verify-full` the host name too.
struct PostgresSettings: Sendable {
    enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String
    var tlsMode: TLSMode
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
        // StoreURL accepted only known modes.
        tlsMode = location.parameters["sslmode"].flatMap(TLSMode.init(rawValue:)) ?? .prefer
        guard (1...1000).contains(options.poolSize) else {
            throw .invalidSetting(key: "pool_size", reason: "must be between 1 and 1000")
        }
    }

    /// The TLS configuration `tlsMode` and `caFile` call for; `nil` for `disable`.
    func tlsConfiguration() throws(SessionStoreError) -> TLSConfiguration? {
        if tlsMode == .disable { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw .invalidSetting(key: "ca_file", reason: "cannot read PEM certificates from \(caFile): \(error)")
            }
        }
        switch tlsMode {
        case .disable: return nil
        case .prefer: tls.certificateVerification = .none
        case .require: tls.certificateVerification = caFile == nil ? .none : .noHostnameVerification
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
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
        switch (tlsMode, try tlsConfiguration()) {
        case (.disable, _), (_, nil): tls = .disable
        case (.prefer, let config?): tls = .prefer(config)
        case (_, let config?): tls = .require(config)
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
            switch (tlsMode, try tlsConfiguration()) {
            case (.disable, _), (_, nil): tls = .disable
            case (.prefer, let config?): tls = .prefer(try NIOSSLContext(configuration: config))
            case (_, let config?): tls = .require(try NIOSSLContext(configuration: config))
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
