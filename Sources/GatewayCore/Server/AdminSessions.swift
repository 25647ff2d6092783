import Foundation
import JSON
import Logging
import SessionStore
import SmallHTTP
import Tokens

/// `/sessions` and `/sessions/revoke` on the admin listener: an operator lists a user's sessions or ends them on
/// every instance, through the same `SessionRevoker` as `/auth/logout` (the store's revocation entries reach the
/// fleet, whose revocation lists close the sessions' WebSocket tunnels).
struct AdminSessions: Sendable {
    let store: any SessionStore
    let revocations: RevocationList
    /// The current `[tokens]` section: a reload may change `access_ttl`, which bounds how long an entry must last.
    let tokens: @Sendable () -> TokensConfig
    let logger: Logger

    private static let noStore = [("Cache-Control", "no-store")]

    func list(_ request: AdminSessionsRequest) async -> SmallResponse {
        guard case .user(let openid, let appid) = request.selector else { return Self.badRequest("openid is required") }
        let sessions: [SessionSummary]
        do {
            sessions = try await store.activeSessions(openid: openid, appid: appid, now: Date())
        } catch {
            return Self.storeUnavailable(error)
        }
        // Ids and times only: never a refresh token, its hash or the session_key (SessionSummary holds none).
        let items = sessions.map { session in
            var item = JSONObjectWriter()
            item.member("sid", session.familyID)
            item.member("appid", session.appid)
            item.member("created", Self.timestamp(session.createdAt))
            item.member("last_refreshed", Self.timestamp(session.lastRefreshedAt))
            item.member("expires", Self.timestamp(session.expiresAt))
            return item.text
        }
        let body = "{\"openid\":\(JSONString.quoted(openid)),\"sessions\":[\(items.joined(separator: ","))]}"
        return .json(.ok, body, headers: Self.noStore)
    }

    func revoke(_ request: AdminSessionsRequest) async -> SmallResponse {
        let tokens = tokens()
        let revoker = SessionRevoker(
            store: store, revocations: revocations, accessTTL: tokens.accessTTL.seconds, leeway: tokens.leeway.seconds)
        let count: Int
        do {
            switch request.selector {
            case .user(let openid, let appid):
                count = try await revoker.endSessions(ofUser: openid, appid: appid)
            case .session(let sid):
                count = try await revoker.endSession(sid) ? 1 : 0
            }
        } catch {
            return Self.storeUnavailable(error)
        }
        // The values come from the request body: escaped, so a line break in a reason cannot forge a log line.
        var metadata: Logger.Metadata = [
            "revoked": "\(count)", "reason": "\(JSONString.escape(request.reason ?? "none given"))",
        ]
        switch request.selector {
        case .user(let openid, let appid):
            metadata["openid"] = "\(JSONString.escape(openid))"
            if let appid { metadata["appid"] = "\(JSONString.escape(appid))" }
        case .session(let sid):
            metadata["sid"] = "\(JSONString.escape(sid))"
        }
        logger.notice("sessions revoked by an operator", metadata: metadata)
        var answer = JSONObjectWriter()
        answer.member("revoked", count)
        return .json(.ok, answer.text, headers: Self.noStore)
    }

    static func badRequest(_ message: String) -> SmallResponse {
        var body = JSONObjectWriter()
        body.member("error", "invalid_request")
        body.member("error_description", message)
        return .json(.badRequest, body.text, headers: noStore)
    }

    /// The store's error names the operation, never a token or key; the operator may retry (nothing half-done is
    /// lost: a session whose tokens were refused but whose family still lives is ended by the retry).
    private static func storeUnavailable(_ error: SessionStoreError) -> SmallResponse {
        var body = JSONObjectWriter()
        body.member("error", "store_unavailable")
        body.member("error_description", "\(error)")
        return .json(.serviceUnavailable, body.text, headers: noStore)
    }

    private static func timestamp(_ date: Date) -> String {
        // RFC 3339, UTC, milliseconds (the stores' precision).
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
