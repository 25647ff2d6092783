import Foundation
import JSON
import NIOConcurrencyHelpers

/// What the simulator remembers of the web login ("网页授权"): the codes its authorize pages issued, the codes
/// spent, and the web access and refresh tokens of each user (one lock, like `SimulatorState`).
final class SimulatorWebState: Sendable {
    /// What a user agreed to on an authorize page: for which app, with which scope, as which simulated user
    /// (a text read like a login code: `openid:X`, `+union`, `snapshot…`).
    struct Grant: Equatable, Sendable {
        var appID: String
        var scope: String
        var user: String
    }

    /// A web access or refresh token and whose it is.
    struct Session: Equatable, Sendable {
        var grant: Grant
        var openID: String
        var expiresAt: ContinuousClock.Instant
    }

    enum Redemption: Equatable {
        /// Issued by an authorize page for this app.
        case issued(Grant)
        /// Not issued here: read by its text, like a jscode2session code.
        case direct
        /// Spent before (40163), or issued for another app (40029).
        case spent
        case otherApp
    }

    enum TokenCheck: Equatable {
        case valid(Session)
        case expired
        case unknown
    }

    /// WeChat's web refresh token lives 30 days ("网页授权": refresh_token 有效期为30天).
    static let refreshLifetime = Duration.seconds(30 * 24 * 3600)

    private struct Storage {
        var issuedCodes: [String: Grant] = [:]
        var spentCodes: Set<String> = []
        var accessTokens: [String: Session] = [:]
        var refreshTokens: [String: Session] = [:]
    }

    private let storage = NIOLockedValueBox(Storage())

    func issueCode(_ grant: Grant) -> String {
        let code = "web" + RandomBytes.hex(byteCount: 14)
        storage.withLockedValue { $0.issuedCodes[code] = grant }
        return code
    }

    func wasIssued(code: String) -> Bool {
        storage.withLockedValue { $0.issuedCodes[code] != nil }
    }

    /// Spends `code` for `appID` (codes are single use, 5 minutes in WeChat; the simulator keeps no clock on them).
    func redeem(appID: String, code: String) -> Redemption {
        storage.withLockedValue { storage in
            if let grant = storage.issuedCodes[code], grant.appID != appID { return .otherApp }
            guard storage.spentCodes.insert(appID + "\u{0}" + code).inserted else { return .spent }
            if let grant = storage.issuedCodes.removeValue(forKey: code) { return .issued(grant) }
            return .direct
        }
    }

    /// A new access token (`lifetime`) and refresh token (30 days) for `openID`.
    func issueTokens(
        grant: Grant, openID: String, lifetime: Duration, now: ContinuousClock.Instant = .now
    ) -> (accessToken: String, refreshToken: String) {
        let access = SimulatorRandom.accessToken()
        let refresh = "simr_" + RandomBytes.base64URL(byteCount: 60)
        storage.withLockedValue { storage in
            storage.accessTokens[access] = Session(
                grant: grant, openID: openID, expiresAt: now.advanced(by: lifetime))
            storage.refreshTokens[refresh] = Session(
                grant: grant, openID: openID, expiresAt: now.advanced(by: Self.refreshLifetime))
        }
        return (access, refresh)
    }

    /// `/sns/oauth2/refresh_token`: a new access token; the refresh token stays the same, as in WeChat.
    func refresh(
        appID: String, refreshToken: String, lifetime: Duration, now: ContinuousClock.Instant = .now
    ) -> (check: TokenCheck, accessToken: String?) {
        storage.withLockedValue { storage in
            guard let session = storage.refreshTokens[refreshToken], session.grant.appID == appID else {
                return (.unknown, nil)
            }
            guard session.expiresAt > now else { return (.expired, nil) }
            let access = SimulatorRandom.accessToken()
            storage.accessTokens[access] = Session(
                grant: session.grant, openID: session.openID, expiresAt: now.advanced(by: lifetime))
            return (.valid(session), access)
        }
    }

    func checkAccessToken(_ token: String, now: ContinuousClock.Instant = .now) -> TokenCheck {
        storage.withLockedValue { storage in
            guard let session = storage.accessTokens[token] else { return .unknown }
            return session.expiresAt > now ? .valid(session) : .expired
        }
    }

    /// Test aid: every web access and refresh token issued for `openID`, for scans that prove none leaked.
    func tokens(openID: String) -> [String] {
        storage.withLockedValue { storage in
            storage.accessTokens.filter { $0.value.openID == openID }.map(\.key)
                + storage.refreshTokens.filter { $0.value.openID == openID }.map(\.key)
        }
    }

    /// Test aid: every web access token of `openID` expires now (WeChat then answers 42001); returns how many.
    func expireAccessTokens(openID: String, now: ContinuousClock.Instant = .now) -> Int {
        storage.withLockedValue { storage in
            var count = 0
            for (token, session) in storage.accessTokens where session.openID == openID && session.expiresAt > now {
                storage.accessTokens[token]?.expiresAt = now
                count += 1
            }
            return count
        }
    }
}
