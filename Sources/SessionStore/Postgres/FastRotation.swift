import PostgresNIO

/// The common case of a refresh as one prepared statement (parsed once per connection, not per refresh): spend
/// the token only in RefreshRotation's `.rotated` case and store its successor. See
/// `PostgresSessionStore.rotate` for why this is atomic and what happens in every other case.
struct FastRotation: PostgresPreparedStatement {
    typealias Row = SessionRecord.StoredRow

    static let sql = """
        WITH spent AS (
            UPDATE refresh_tokens t SET spent_at = $3
            FROM refresh_families f
            WHERE t.hash = $1 AND t.spent_at IS NULL AND t.expires_at > $3
                AND f.id = t.family_id AND f.revoked_at IS NULL AND f.expires_at > $3
            RETURNING \(SessionRecord.storedColumns)
        ), successor AS (
            INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at, spent_at)
            SELECT $2, id, $3, LEAST($4, expires_at), NULL FROM spent
        )
        SELECT * FROM spent
        """

    var presentedHash: String
    var newHash: String
    /// Unix milliseconds.
    var now: Int64
    var requestedExpiry: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(presentedHash)
        bindings.append(newHash)
        bindings.append(now)
        bindings.append(requestedExpiry)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}
