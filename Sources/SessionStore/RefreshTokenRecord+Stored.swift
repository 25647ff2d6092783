/// A refresh token as both stores keep it: the columns of `refresh_tokens` (aliased `t`), instants in Unix
/// milliseconds (`StoreTime`). Decoding a row is written here once.
extension RefreshTokenRecord {
    static let storedColumns = "t.hash, t.family_id, t.issued_at, t.expires_at, t.spent_at"

    /// The values of `storedColumns`, in order.
    typealias StoredRow = (String, String, Int64, Int64, Int64?)

    init(stored row: StoredRow) {
        let (hash, familyID, issued, expires, spent) = row
        self.init(
            hash: hash, familyID: familyID, issuedAt: StoreTime.date(issued), expiresAt: StoreTime.date(expires),
            spentAt: spent.map(StoreTime.date))
    }
}
