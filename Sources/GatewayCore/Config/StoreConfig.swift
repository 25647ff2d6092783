import SessionStore

/// `[store]`: where sessions and revocations live. `sqlite://FILE` (embedded; one host, one or more
/// processes) or `postgres://user:pass@host:5432/db` (state shared by a fleet of instances).
public struct StoreConfig: Sendable, Equatable, CustomStringConvertible {
    public var url = "sqlite://gateway.db"
    /// PostgreSQL: the most pooled connections per instance.
    public var poolSize = 8
    /// PostgreSQL: how long an auth endpoint waits for the store before answering 503.
    public var timeout = Duration.seconds(3)
    /// PostgreSQL: CA certificates (PEM) that sign the server's certificate.
    public var caFile: String?

    public init() {}

    /// The URL with any password replaced, for logs.
    public var description: String { RedactedURL.text(url) }

    /// What the store factory takes besides the URL.
    public var options: SessionStoreOptions {
        SessionStoreOptions(poolSize: poolSize, timeout: timeout, caFile: caFile)
    }

    static func decode(_ reader: ConfigReader?) -> StoreConfig {
        var config = StoreConfig()
        guard let reader else { return config }
        if let url = reader.string("url") {
            do {
                let parsed = try StoreURL(parsing: url)
                if case .sqliteInMemory = parsed {
                    reader.report("url", "sqlite::memory: loses every session at exit; name a file (sqlite://FILE)")
                } else {
                    config.url = url
                }
            } catch {
                reader.report(
                    "url",
                    "\"\(RedactedURL.text(url))\" is not a store URL "
                        + "(sqlite://FILE or postgres://user:pass@host:5432/db): \(error)"
                )
            }
        }
        if let size = reader.integer("pool_size") {
            if (1...1000).contains(size) {
                config.poolSize = size
            } else {
                reader.report("pool_size", "must be between 1 and 1000")
            }
        }
        if let timeout = reader.duration("timeout") {
            if timeout > .zero {
                config.timeout = timeout
            } else {
                reader.report("timeout", "must be greater than zero")
            }
        }
        if let caFile = reader.string("ca_file") {
            if caFile.isEmpty {
                reader.report("ca_file", "must not be empty")
            } else {
                config.caFile = caFile
            }
        }
        // prefer and allow check no certificate (and disable uses no TLS): a ca_file beside them would promise
        // a check that never happens.
        if case .postgres(let location)? = try? StoreURL(parsing: config.url),
            let conflict = location.sslMode.conflict(withCAFile: config.caFile)
        {
            reader.report("url", conflict)
        }
        reader.rejectUnknownKeys()
        return config
    }

    /// Settings that only a PostgreSQL store reads are refused with a SQLite URL, so a half-edited file
    /// does not look like it configured something it did not.
    var isPostgres: Bool { url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") }
}
