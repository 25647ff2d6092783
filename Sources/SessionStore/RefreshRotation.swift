import Foundation

/// The refresh-token rotation rule as a pure function, so every case is unit-tested without a database.
/// Stores look the token and its family up, call `spend`, and perform the outcome in the same
/// transaction (`.rotated`: mark the token spent and store the successor; `.reused`: revoke the family).
public enum RefreshRotation {
    /// Decides what presenting a token means at `now`.
    ///
    /// Order matters. A spent token of a family that has not expired is theft (`.reused`) even when the
    /// family is already revoked or the token itself has expired: every replay is reported as such, and
    /// revoking again changes nothing (so of N concurrent uses of one token, one is `.rotated` and N - 1
    /// are `.reused`). An expired family cannot be stolen from any more, so a replay there is `.expired`.
    public static func spend(token: RefreshTokenRecord?, family: SessionRecord?, now: Date) -> RotationOutcome {
        guard let token, let family, token.familyID == family.familyID else {
            return .unknown
        }
        if token.spentAt != nil {
            return family.isExpired(at: now) ? .expired : .reused(familyID: family.familyID)
        }
        if family.revokedAt != nil {
            return .revoked
        }
        if family.isExpired(at: now) || now >= token.expiresAt {
            return .expired
        }
        return .rotated(family)
    }

    /// Expiry of a successor token: a rotation never outlives the family's absolute expiry.
    public static func successorExpiry(requested: Date, family: SessionRecord) -> Date {
        min(requested, family.expiresAt)
    }
}
