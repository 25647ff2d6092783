/// Tuning for the store behind `[store]` that does not fit in its URL, for either store: each reads the settings
/// that concern it (`sqlite…` only SQLite, `poolSize`, `timeout`, `caFile` and `postgres…` only PostgreSQL).
public struct SessionStoreOptions: Sendable, Equatable {
    /// PostgreSQL: the most connections the pool opens (`[store] pool_size`). The LISTEN connection that
    /// follows revocations is one more.
    public var poolSize: Int
    /// PostgreSQL: how long an operation may wait for a connection, and the server-side
    /// `statement_timeout` of each statement (`[store] timeout`). An auth endpoint answers 503 after it.
    public var timeout: Duration
    /// PostgreSQL: a PEM file of CA certificates that sign the server's certificate (`[store] ca_file`).
    /// With it `sslmode=require` also verifies the chain, as libpq does when it finds a root certificate.
    public var caFile: String?
    /// How often revocations recorded by other processes are looked for without a notification: the
    /// SQLite poll (cheap, by sequence number) and the PostgreSQL reconcile (the safety net behind NOTIFY).
    public var sqlitePollInterval: Duration
    public var postgresReconcileInterval: Duration
    /// SQLite: how long to wait for another process's write lock before failing with a `.sqlite` busy error.
    public var sqliteBusyTimeout: Duration
    /// SQLite: `PRAGMA synchronous`. `.normal` survives the process being killed; `.full` also an OS crash or
    /// power loss, at one fsync per commit.
    public var sqliteSynchronous: SQLiteSynchronous

    public init(
        poolSize: Int = 8,
        timeout: Duration = .seconds(3),
        caFile: String? = nil,
        sqlitePollInterval: Duration = .milliseconds(250),
        postgresReconcileInterval: Duration = .seconds(30),
        sqliteBusyTimeout: Duration = .seconds(5),
        sqliteSynchronous: SQLiteSynchronous = .normal
    ) {
        self.poolSize = poolSize
        self.timeout = timeout
        self.caFile = caFile
        self.sqlitePollInterval = sqlitePollInterval
        self.postgresReconcileInterval = postgresReconcileInterval
        self.sqliteBusyTimeout = sqliteBusyTimeout
        self.sqliteSynchronous = sqliteSynchronous
    }
}
