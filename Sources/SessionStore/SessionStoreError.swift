/// Every failure of the session store. Messages name the operation and the database's own text; they never
/// contain a refresh token, its hash, a session key or a database password.
public enum SessionStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `[store] url` could not be understood; `reason` says why (the URL itself is not repeated, as it
    /// may hold a password).
    case invalidURL(reason: String)
    /// The URL's scheme is not `sqlite` or `postgres`/`postgresql`.
    case unsupportedScheme(String)
    /// The store could not be reached or did not answer within `[store] timeout` (PostgreSQL down, the pool
    /// exhausted). Retryable: the auth endpoints answer 503 with `Retry-After`.
    case unavailable(operation: String, reason: String)
    /// PostgreSQL answered with an error. `sqlState` is its SQLSTATE code; `message` its primary text.
    case postgres(operation: String, sqlState: String, message: String)
    /// A `[store]` setting could not be used (an unreadable `ca_file`, an unknown `sslmode`).
    case invalidSetting(key: String, reason: String)
    /// The directory that should hold the SQLite file does not exist (it is not created silently, so a
    /// typo in the path does not start an empty store somewhere else).
    case directoryMissing(path: String)
    /// The database file was written by a newer gateway (its schema version is higher than this build's).
    case schemaTooNew(found: Int, supported: Int)
    /// SQLite reported an error. `code` is the extended result code.
    case sqlite(operation: String, code: Int32, message: String)
    /// A row did not have the expected shape (a damaged or foreign database).
    case corruptRow(table: String)
    /// The store was closed.
    case closed

    public var description: String {
        switch self {
        case .invalidURL(let reason):
            return "invalid store url: \(reason)"
        case .unsupportedScheme(let scheme):
            return "unsupported store url scheme '\(scheme)' (expected sqlite:// or postgres://)"
        case .unavailable(let operation, let reason):
            return "session store unavailable during \(operation): \(reason)"
        case .postgres(let operation, let sqlState, let message):
            return "postgres error \(sqlState) during \(operation): \(message)"
        case .invalidSetting(let key, let reason):
            return "store.\(key): \(reason)"
        case .directoryMissing(let path):
            return "store directory does not exist: \(path)"
        case .schemaTooNew(let found, let supported):
            return "store schema version \(found) is newer than this gateway supports (\(supported))"
        case .sqlite(let operation, let code, let message):
            return "sqlite error \(code) during \(operation): \(message)"
        case .corruptRow(let table):
            return "unexpected row shape in table \(table)"
        case .closed:
            return "session store is closed"
        }
    }
}
