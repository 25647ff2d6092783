/// SQLite's `PRAGMA synchronous` in WAL mode, for `SessionStoreOptions.sqliteSynchronous`.
public enum SQLiteSynchronous: String, Sendable, Equatable {
    /// Survives process crashes; an OS crash may lose the latest commits.
    case normal = "NORMAL"
    /// Also survives OS crashes and power loss; one fsync per commit.
    case full = "FULL"
}
