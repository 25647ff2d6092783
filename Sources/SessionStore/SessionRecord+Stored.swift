/// A session as both stores keep it: the columns of `refresh_families` (aliased `f`) and the values they hold,
/// text and instants in Unix milliseconds (`StoreTime`). Decoding a row is written here once; each store only
/// reads its columns in this order (`SQLiteRow+Records`, `PostgresRow+Records`).
extension SessionRecord {
    static let storedColumns =
        "f.id, f.openid, f.unionid, f.appid, f.session_key, f.created_at, f.expires_at, f.revoked_at"

    /// The values of `storedColumns`, in order.
    typealias StoredRow = (String, String, String?, String, String, Int64, Int64, Int64?)

    init(stored row: StoredRow) {
        let (id, openid, unionid, appid, key, created, expires, revoked) = row
        self.init(
            familyID: id, openid: openid, unionid: unionid, appid: appid, sessionKey: key,
            createdAt: StoreTime.date(created), expiresAt: StoreTime.date(expires),
            revokedAt: revoked.map(StoreTime.date))
    }
}
