import Foundation

/// The identity and lifetime a verified access token asserts (docs/architecture.md, "The control plane": `sub` is the
/// openid).
///
/// One reference to immutable storage, not a dozen fields inline: the token cache hands the same claims to every
/// request presenting the token, and a copy (into the verification result, the request's plan, an `if let`) is one
/// retain rather than one per `String` field, and a few bytes rather than a struct moved by `memmove` (profile:
/// "outlined init with copy of VerifiedClaims", its destroy and `__memmove` under the proxy path's token check).
/// Read-only: nothing changes claims once a token verified them, so sharing the storage can never share a change.
public struct VerifiedClaims: Sendable, Hashable, CustomReflectable {
    /// The fields, as the struct held them before; their synthesized `==` and `hash(into:)` are the claims'.
    @usableFromInline
    struct Fields: Sendable, Hashable {
        @usableFromInline let subject: String
        @usableFromInline let appid: String?
        @usableFromInline let unionid: String?
        @usableFromInline let jti: String?
        @usableFromInline let issuer: String
        @usableFromInline let audience: String
        @usableFromInline let expiresAt: Date
        @usableFromInline let issuedAt: Date?
        @usableFromInline let keyID: String
        @usableFromInline let sessionID: String?
        @usableFromInline let appKind: AppKind
    }

    /// Never mutated once made: values that share it share nothing that can change.
    @usableFromInline
    final class Storage: Sendable {
        @usableFromInline let fields: Fields

        @usableFromInline
        init(_ fields: Fields) { self.fields = fields }
    }

    @usableFromInline let storage: Storage

    /// `sub`: the user's openid.
    @inlinable public var subject: String { storage.fields.subject }
    /// `appid`: the mini-program the user logged in through, when present.
    @inlinable public var appid: String? { storage.fields.appid }
    /// `unionid`, when WeChat returned one.
    @inlinable public var unionid: String? { storage.fields.unionid }
    /// `jti`: the token's id, the handle for revocation.
    @inlinable public var jti: String? { storage.fields.jti }
    /// `iss`, equal to the configured issuer.
    @inlinable public var issuer: String { storage.fields.issuer }
    /// The configured audience the token's `aud` contained.
    @inlinable public var audience: String { storage.fields.audience }
    /// `exp`.
    @inlinable public var expiresAt: Date { storage.fields.expiresAt }
    /// `iat`, when present.
    @inlinable public var issuedAt: Date? { storage.fields.issuedAt }
    /// The `kid` of the ring key that verified the signature.
    @inlinable public var keyID: String { storage.fields.keyID }
    /// `sid`: the login session (refresh-token family) the token was issued for, so logout can end it
    /// (the claim name of OpenID Connect Front-Channel Logout, section 3).
    @inlinable public var sessionID: String? { storage.fields.sessionID }
    /// `app_kind`: the kind of app the user logged in through; `.miniprogram` for a token without the claim.
    @inlinable public var appKind: AppKind { storage.fields.appKind }

    public init(
        subject: String, appid: String? = nil, unionid: String? = nil, jti: String? = nil, issuer: String,
        audience: String, expiresAt: Date, issuedAt: Date? = nil, keyID: String, sessionID: String? = nil,
        appKind: AppKind = .miniprogram
    ) {
        storage = Storage(
            Fields(
                subject: subject, appid: appid, unionid: unionid, jti: jti, issuer: issuer, audience: audience,
                expiresAt: expiresAt, issuedAt: issuedAt, keyID: keyID, sessionID: sessionID, appKind: appKind))
    }

    public static func == (lhs: VerifiedClaims, rhs: VerifiedClaims) -> Bool {
        lhs.storage.fields == rhs.storage.fields
    }

    public func hash(into hasher: inout Hasher) {
        storage.fields.hash(into: &hasher)
    }

    /// The fields, so `print`, `dump` and test failures show the claims as they did when the struct held them.
    public var customMirror: Mirror {
        let fields = storage.fields
        return Mirror(
            self,
            children: [
                "subject": fields.subject, "appid": fields.appid as Any, "unionid": fields.unionid as Any,
                "jti": fields.jti as Any, "issuer": fields.issuer, "audience": fields.audience,
                "expiresAt": fields.expiresAt, "issuedAt": fields.issuedAt as Any, "keyID": fields.keyID,
                "sessionID": fields.sessionID as Any, "appKind": fields.appKind,
            ], displayStyle: .struct)
    }
}
