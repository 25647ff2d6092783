import Foundation

/// Persistence for login sessions (refresh-token families), the newest WeChat `session_key` per user,
/// and revoked access tokens (docs/architecture.md, "The stores").
///
/// Callers are the async control endpoints (`/auth/*`) and start-up code; implementations never block
/// the caller's thread (a SwiftNIO event loop must stay free), so every method is `async`.
///
/// What every implementation promises:
/// - Refresh tokens are handled only as hashes (`RefreshTokenHash.of`); no method takes a raw token.
/// - `rotate` is atomic in the store itself, across processes: of any number of concurrent rotations
///   of one token, exactly one returns `.rotated`.
/// - Every error thrown is a `SessionStoreError` that carries no token, hash or session key.
/// - Times are stored with millisecond precision.
public protocol SessionStore: Sendable {
    /// Starts a new refresh family for a successful `code2session`, stores its first refresh token (by
    /// hash) and makes `sessionKey` the newest key for (`appid`, `openid`).
    ///
    /// `refreshExpiresAt` is the absolute expiry of the family: rotation never extends it.
    func createSession(
        openid: String,
        unionid: String?,
        appid: String,
        sessionKey: String,
        refreshTokenHash: String,
        refreshExpiresAt: Date,
        now: Date
    ) async throws(SessionStoreError) -> SessionRecord

    /// Spends the presented refresh token and stores its successor, in one transaction.
    ///
    /// The successor expires at `min(newExpiresAt, family.expiresAt)`. Presenting a spent token revokes
    /// the whole family (RFC 9700 section 4.14.2) and returns `.reused`; that includes the token the
    /// winner of a race has just received, because every token of a revoked family is refused.
    func rotate(
        presentedHash: String,
        newHash: String,
        newExpiresAt: Date,
        now: Date
    ) async throws(SessionStoreError) -> RotationOutcome

    /// Ends a session: every refresh token of the family is refused from now on.
    /// Returns `false` when the family does not exist or was already revoked.
    @discardableResult
    func revokeFamily(familyID: String, now: Date) async throws(SessionStoreError) -> Bool

    /// A user's live sessions (neither revoked nor expired at `now`), oldest first; of one app when `appid` is set.
    func activeSessions(openid: String, appid: String?, now: Date) async throws(SessionStoreError) -> [SessionSummary]

    /// Ends every live session of a user (of one app when `appid` is set), in one statement. Returns the ids of
    /// the families it ended: not those ended before.
    @discardableResult
    func revokeSessions(openid: String, appid: String?, now: Date) async throws(SessionStoreError) -> [String]

    /// RFC 7009 revocation of a refresh token: revokes its whole family.
    /// Returns whether the hash belonged to a known token (the HTTP answer is 200 either way).
    @discardableResult
    func revokeByRefreshTokenHash(_ hash: String, now: Date) async throws(SessionStoreError) -> Bool

    /// The family a refresh token belongs to, whatever its state (spent, expired, revoked).
    func family(forRefreshTokenHash hash: String) async throws(SessionStoreError) -> SessionRecord?

    /// The newest `session_key` stored for a user of a mini-program (the key of the last login), used to
    /// decrypt `encryptedData`. `nil` when the user never logged in.
    func sessionKey(appid: String, openid: String) async throws(SessionStoreError) -> String?

    /// Replaces the user's newest `session_key` with `replacement` only while it is still `current` (a web login's
    /// WeChat credentials, renewed by the gateway): a login that stored a newer key meanwhile wins. True when
    /// replaced.
    func replaceSessionKey(
        appid: String, openid: String, current: String, replacement: String, now: Date
    ) async throws(SessionStoreError) -> Bool

    /// Remembers a logged-out access token until it would have expired anyway.
    func recordRevokedAccessToken(jti: String, expiresAt: Date) async throws(SessionStoreError)

    /// Revoked access tokens that have not expired at `now` (the proxy loads them into memory at start).
    func revokedAccessTokens(now: Date) async throws(SessionStoreError) -> [(jti: String, expiresAt: Date)]

    /// Follows the revocations that every process sharing this store records, until the calling task is
    /// cancelled: `deliver` gets every unexpired revocation first, then each one recorded after, within about
    /// a second of its commit, read by sequence number after a high-water mark (PostgreSQL: woken by
    /// LISTEN/NOTIFY, whose payload is never trusted, on every reconnect and by a periodic reconcile; SQLite:
    /// a poll). It never throws: an outage is retried until the store is back, and whatever was recorded
    /// meanwhile is delivered then, including revocations that have expired since (the caller keeps those
    /// out of its list but still closes what was open under them, such as a session's tunnels).
    func followRevocations(_ deliver: @escaping @Sendable ([RevokedAccessToken]) -> Void) async

    /// What `followRevocations` has cost so far: reads of the feed and rows they returned (`/metrics`).
    var revocationFeedStatistics: RevocationFeedStatistics { get }

    /// Deletes refresh tokens, families and access-token revocations that expired at or before `now`.
    /// Returns the number of rows deleted. The caller schedules it (for example every few minutes);
    /// the store starts no timer of its own. Of several processes purging one store at once, at most one
    /// does the work; the others return 0.
    @discardableResult
    func purgeExpired(now: Date) async throws(SessionStoreError) -> Int

    /// Succeeds when the store can answer a query (`/readyz`).
    func ping() async throws(SessionStoreError)

    /// `false` after an operation found the store unreachable, until one succeeds again. Cheap (no I/O):
    /// `/auth/login` checks it before it spends a single-use WeChat code on a session it could not store.
    var isAvailable: Bool { get }

    /// Releases the store's resources. Later calls throw `SessionStoreError.closed`.
    func close() async
}

extension SessionStore {
    /// An embedded store is there as long as the process is.
    public var isAvailable: Bool { true }

    /// A store that does not count its reads reports none.
    public var revocationFeedStatistics: RevocationFeedStatistics { RevocationFeedStatistics() }
}
