import Logging

/// Opens the store a `[store] url` names: the SQLite file (created and migrated on first start) or a
/// PostgreSQL pool (schema migrated under an advisory lock). Throws when the store cannot be reached or
/// its schema is newer than this build; the error names no password.
public func makeSessionStore(
    url: StoreURL, options: SessionStoreOptions = SessionStoreOptions(),
    logger: Logger = Logger(label: "gateway.store")
) async throws(SessionStoreError) -> any SessionStore {
    switch url {
    case .sqlite(let path):
        return try SQLiteSessionStore(path: path, options: options)
    case .sqliteInMemory:
        return try SQLiteSessionStore(path: ":memory:", options: options)
    case .postgres(let location):
        return try await PostgresSessionStore.open(location, options: options, logger: logger)
    }
}

/// Parses `url` (see `StoreURL`) and opens the store it names.
public func makeSessionStore(
    url: String, options: SessionStoreOptions = SessionStoreOptions(),
    logger: Logger = Logger(label: "gateway.store")
) async throws(SessionStoreError) -> any SessionStore {
    try await makeSessionStore(url: StoreURL(parsing: url), options: options, logger: logger)
}
