import Foundation

/// The payload of a revocation notification (PostgreSQL `NOTIFY gateway_revocations`): the expiry in Unix
/// milliseconds, a space, then the jti. A jti too long for a notification (PostgreSQL's limit is 8000 bytes)
/// is announced as `*`, which tells listeners to reload every revocation instead. Pure, so both directions
/// are unit-tested.
public enum RevocationNotice: Sendable, Equatable {
    case revoked(RevokedAccessToken)
    case reloadAll

    /// The channel every instance listens on.
    public static let channel = "gateway_revocations"
    static let longestJTI = 4000

    public static func payload(jti: String, expiresAt: Date) -> String {
        guard jti.utf8.count <= longestJTI else { return "*" }
        return "\(StoreTime.milliseconds(expiresAt)) \(jti)"
    }

    /// `nil` for a payload this build does not understand (ignored: the periodic reconcile still catches up).
    public init?(payload: String) {
        if payload == "*" {
            self = .reloadAll
            return
        }
        guard let space = payload.firstIndex(of: " "), let milliseconds = Int64(payload[..<space]) else {
            return nil
        }
        let jti = String(payload[payload.index(after: space)...])
        guard !jti.isEmpty else { return nil }
        self = .revoked(RevokedAccessToken(jti: jti, expiresAt: StoreTime.date(milliseconds)))
    }
}
