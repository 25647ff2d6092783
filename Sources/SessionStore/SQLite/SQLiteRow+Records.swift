/// The records the SQLite store reads, each from its columns in the order its `StoredRow` names them.
extension SQLiteRow {
    /// `SessionRecord.storedColumns`, starting at column `first`.
    func sessionRecord(from first: Int32) throws(SessionStoreError) -> SessionRecord {
        SessionRecord(
            stored: (
                try text(first), try text(first + 1), optionalText(first + 2), try text(first + 3),
                try text(first + 4), try integer(first + 5), try integer(first + 6), try optionalInteger(first + 7)
            ))
    }

    /// `RefreshTokenRecord.storedColumns`, starting at column `first`.
    func refreshTokenRecord(from first: Int32) throws(SessionStoreError) -> RefreshTokenRecord {
        RefreshTokenRecord(
            stored: (
                try text(first), try text(first + 1), try integer(first + 2), try integer(first + 3),
                try optionalInteger(first + 4)
            ))
    }

    /// `jti, expires_at`, starting at column `first`.
    func revokedAccessToken(from first: Int32) throws(SessionStoreError) -> RevokedAccessToken {
        RevokedAccessToken(stored: (try text(first), try integer(first + 1)))
    }
}
