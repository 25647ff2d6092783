import Foundation
import JSON

/// One login session: a refresh-token family (RFC 9700 section 4.14.2) and what WeChat told us at login.
///
/// Its `description`, `debugDescription` and mirror redact `sessionKey`, so logging or dumping a record
/// never leaks the key that decrypts the user's data.
public struct SessionRecord: Sendable, Equatable {
    /// Random identifier of the family, shared by every refresh token issued from one login.
    public var familyID: String
    public var openid: String
    public var unionid: String?
    public var appid: String
    /// The WeChat `session_key` returned at this login (base64 text). Secret.
    public var sessionKey: String
    public var createdAt: Date
    /// Absolute end of the family: no refresh token of it is accepted at or after this instant.
    public var expiresAt: Date
    /// When the family was revoked (logout, revocation, or reuse of a spent token); `nil` while active.
    public var revokedAt: Date?

    public init(
        familyID: String,
        openid: String,
        unionid: String?,
        appid: String,
        sessionKey: String,
        createdAt: Date,
        expiresAt: Date,
        revokedAt: Date?
    ) {
        self.familyID = familyID
        self.openid = openid
        self.unionid = unionid
        self.appid = appid
        self.sessionKey = sessionKey
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// The record of a new login: a fresh random family id (128 bits), active, expiring at `expiresAt`.
    public static func newFamily(
        openid: String, unionid: String?, appid: String, sessionKey: String, now: Date, expiresAt: Date
    ) -> SessionRecord {
        SessionRecord(
            familyID: RandomBytes.hex(byteCount: 16), openid: openid, unionid: unionid, appid: appid,
            sessionKey: sessionKey, createdAt: now, expiresAt: expiresAt, revokedAt: nil)
    }

    /// Whether the family's absolute lifetime is over at `now`.
    public func isExpired(at now: Date) -> Bool {
        now >= expiresAt
    }
}

extension SessionRecord: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "SessionRecord(familyID: \(familyID), openid: \(openid), unionid: \(unionid ?? "nil"), appid: \(appid), "
            + "sessionKey: <redacted>, createdAt: \(createdAt), expiresAt: \(expiresAt), "
            + "revokedAt: \(revokedAt.map { "\($0)" } ?? "nil"))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "familyID": familyID, "openid": openid, "unionid": unionid as Any, "appid": appid,
                "sessionKey": "<redacted>", "createdAt": createdAt, "expiresAt": expiresAt,
                "revokedAt": revokedAt as Any,
            ],
            displayStyle: .struct
        )
    }
}
