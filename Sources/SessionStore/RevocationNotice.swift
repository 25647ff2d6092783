import Foundation

/// The notification (PostgreSQL `NOTIFY gateway_revocations`) sent with every recorded revocation.
///
/// It only wakes the listeners, which then read the revocation rows after their high-water mark: PostgreSQL
/// checks no privilege on `NOTIFY`, so a payload is no evidence of anything and is never read. It keeps the
/// previous release's format (the expiry in Unix milliseconds, a space, then the jti; `*` for a jti too long
/// for PostgreSQL's 8000-byte limit), so instances of that release still hear revocations during a rolling
/// upgrade.
public enum RevocationNotice {
    /// The channel every instance listens on.
    public static let channel = "gateway_revocations"
    static let longestJTI = 4000

    public static func payload(jti: String, expiresAt: Date) -> String {
        guard jti.utf8.count <= longestJTI else { return "*" }
        return "\(StoreTime.milliseconds(expiresAt)) \(jti)"
    }
}
