import Foundation

/// The parsed `[store] url` of gateway.conf.
///
/// Accepted forms:
/// - `sqlite://gateway.db`, `sqlite://data/gateway.db`: a path relative to the current directory;
/// - `sqlite:///var/lib/gateway/gateway.db`: an absolute path;
/// - `sqlite::memory:`: a private in-memory database (tests; lost at exit);
/// - `postgres://user:pass@host:5432/db` (or `postgresql://`), with an optional `?sslmode=` of
///   `disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full` (libpq's names); without it,
///   `verify-full` (not libpq's `prefer`: see `PostgresSSLMode`).
///
/// `description` hides the PostgreSQL password.
public enum StoreURL: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case sqliteInMemory
    case postgres(PostgresLocation)

    /// Where a PostgreSQL store lives. User and password are percent-decoded.
    public struct PostgresLocation: Sendable, Equatable {
        public var user: String?
        public var password: String?
        public var host: String
        public var port: Int
        public var database: String
        /// Query parameters such as `sslmode`, in order.
        public var parameters: [String: String]

        /// The `sslmode` parameter, or the default (`verify-full`); the parser accepted only known names.
        public var sslMode: PostgresSSLMode {
            (try? PostgresSSLMode(parameter: parameters["sslmode"])) ?? .default
        }

        public init(
            user: String?, password: String?, host: String, port: Int, database: String,
            parameters: [String: String] = [:]
        ) {
            self.user = user
            self.password = password
            self.host = host
            self.port = port
            self.database = database
            self.parameters = parameters
        }
    }

    /// Parses a store URL; throws `.unsupportedScheme` or `.invalidURL` with the reason.
    public init(parsing text: String) throws(SessionStoreError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "sqlite::memory:" {
            self = .sqliteInMemory
            return
        }
        guard let schemeEnd = trimmed.range(of: "://") else {
            throw .invalidURL(reason: "expected scheme://..., for example sqlite://gateway.db")
        }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        // What stands before `://` is repeated in the error only when it could be a scheme (RFC 3986 section 3.1):
        // in `gw:secret@db://x` it is the credentials.
        guard Self.isScheme(scheme) else {
            throw .invalidURL(reason: "expected scheme://..., for example sqlite://gateway.db")
        }
        let rest = String(trimmed[schemeEnd.upperBound...])
        switch scheme {
        case "sqlite":
            self = .sqlite(path: try Self.sqlitePath(rest))
        case "postgres", "postgresql":
            self = .postgres(try Self.postgresLocation(trimmed))
        default:
            throw .unsupportedScheme(scheme)
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path):
            // An absolute path gives the three slashes of `sqlite:///abs` by itself.
            return "sqlite://\(path)"
        case .sqliteInMemory:
            return "sqlite::memory:"
        case .postgres(let location):
            let user = location.user.map { $0 + (location.password == nil ? "" : ":***") + "@" } ?? ""
            return "postgres://\(user)\(location.host):\(location.port)/\(location.database)"
        }
    }

    /// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), lowercased.
    private static func isScheme(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || "+-.".unicodeScalars.contains(scalar)
        }
    }

    private static func sqlitePath(_ rest: String) throws(SessionStoreError) -> String {
        if rest.isEmpty || rest == "/" {
            throw .invalidURL(reason: "sqlite url has no file path (sqlite://gateway.db or sqlite:///abs/path.db)")
        }
        if rest.contains("?") || rest.contains("#") {
            throw .invalidURL(reason: "sqlite url takes no query or fragment")
        }
        if rest.hasSuffix("/") {
            throw .invalidURL(reason: "sqlite url path names a directory, not a file")
        }
        if rest.contains("\0") {
            throw .invalidURL(reason: "sqlite url path contains a NUL byte")
        }
        // `sqlite:///abs` leaves "/abs" (absolute); `sqlite://rel` leaves "rel" (relative), as SQLAlchemy reads them.
        return rest
    }

    private static func postgresLocation(_ text: String) throws(SessionStoreError) -> PostgresLocation {
        guard let components = URLComponents(string: text) else {
            throw .invalidURL(reason: "postgres url is malformed")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidURL(reason: "postgres url has no host")
        }
        var database = components.path
        if database.hasPrefix("/") {
            database.removeFirst()
        }
        guard !database.isEmpty, !database.contains("/") else {
            throw .invalidURL(reason: "postgres url needs exactly one database name after the host")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw .invalidURL(reason: "postgres port out of range")
        }
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw .invalidURL(reason: "unknown postgres url parameter '\(item.name)' (only sslmode is read)")
            }
            let mode = item.value ?? ""
            _ = try PostgresSSLMode(parameter: mode)
            parameters[item.name] = mode
        }
        return PostgresLocation(
            user: components.user?.removingPercentEncoding ?? components.user,
            password: components.password?.removingPercentEncoding ?? components.password,
            host: host,
            port: port,
            database: database.removingPercentEncoding ?? database,
            parameters: parameters
        )
    }
}
