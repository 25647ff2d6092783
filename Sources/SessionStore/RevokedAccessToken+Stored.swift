/// A revocation as both stores keep it: `jti, expires_at`, the expiry in Unix milliseconds (`StoreTime`).
/// Decoding a row is written here once.
extension RevokedAccessToken {
    /// The values of `jti, expires_at`, in order.
    typealias StoredRow = (String, Int64)

    init(stored row: StoredRow) {
        self.init(jti: row.0, expiresAt: StoreTime.date(row.1))
    }
}
