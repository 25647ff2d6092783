import PostgresNIO

/// The records the PostgreSQL store reads, each from its columns in the order its `StoredRow` names them.
extension PostgresRow {
    /// `SessionRecord.storedColumns`.
    func sessionRecord() throws -> SessionRecord {
        SessionRecord(stored: try decode(SessionRecord.StoredRow.self))
    }

    /// `RefreshTokenRecord.storedColumns`.
    func refreshTokenRecord() throws -> RefreshTokenRecord {
        RefreshTokenRecord(stored: try decode(RefreshTokenRecord.StoredRow.self))
    }
}
