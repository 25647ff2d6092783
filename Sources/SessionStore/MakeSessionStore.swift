/// Opens the store a `[store] url` names. Only SQLite is built; a PostgreSQL URL throws
/// `SessionStoreError.postgresNotBuilt`.
public func makeSessionStore(url: StoreURL) throws(SessionStoreError) -> any SessionStore {
    switch url {
    case .sqlite(let path):
        return try SQLiteSessionStore(path: path)
    case .sqliteInMemory:
        return try SQLiteSessionStore(path: ":memory:")
    case .postgres:
        throw .postgresNotBuilt
    }
}

/// Parses `url` (see `StoreURL`) and opens the store it names.
public func makeSessionStore(url: String) throws(SessionStoreError) -> any SessionStore {
    try makeSessionStore(url: StoreURL(parsing: url))
}
