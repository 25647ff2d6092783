import Foundation
import NIOConcurrencyHelpers
import WeChat

/// Everything the simulator remembers between requests, behind one lock: spent codes, the
/// newest session_key per openid, and the stable access tokens it issued.
final class SimulatorState: Sendable {
    /// How an access token presented to a server API checks out.
    enum TokenCheck: Equatable {
        case valid(appID: String)
        case expired
        case unknown
    }

    private struct IssuedToken {
        var appID: String
        var expiresAt: ContinuousClock.Instant
    }

    private struct Storage {
        var spentLoginCodes: Set<String> = []
        var spentPhoneCodes: Set<String> = []
        var sessionKeys: [String: String] = [:]
        var tokens: [String: IssuedToken] = [:]
        var currentToken: [String: String] = [:]
        var requestCounts: [String: Int] = [:]
    }

    private let storage = NIOLockedValueBox(Storage())
    /// The web login's codes and tokens (`/connect/…`, `/sns/oauth2/…`, `/sns/userinfo`).
    let web = SimulatorWebState()

    /// Counts requests per path so tests can prove what a client sent (e.g. a code only once).
    func countRequest(path: String) {
        storage.withLockedValue { $0.requestCounts[path, default: 0] += 1 }
    }

    func requestCount(path: String) -> Int {
        storage.withLockedValue { $0.requestCounts[path, default: 0] }
    }

    /// Marks a login code spent; false when it already was (codes are single use).
    func spendLoginCode(appID: String, code: String) -> Bool {
        storage.withLockedValue { $0.spentLoginCodes.insert(appID + "\u{0}" + code).inserted }
    }

    func spendPhoneCode(appID: String, code: String) -> Bool {
        storage.withLockedValue { $0.spentPhoneCodes.insert(appID + "\u{0}" + code).inserted }
    }

    /// A user has one valid session_key at a time: each login replaces it.
    func recordSessionKey(_ sessionKey: String, openID: String) {
        storage.withLockedValue { $0.sessionKeys[openID] = sessionKey }
    }

    func sessionKey(forOpenID openID: String) -> String? {
        storage.withLockedValue { $0.sessionKeys[openID] }
    }

    /// stable_token semantics: the same token while it is valid, a new one when forced or
    /// expired; a forced refresh invalidates the previous token.
    func stableToken(
        appID: String,
        forceRefresh: Bool,
        lifetime: Duration,
        now: ContinuousClock.Instant = .now
    ) -> (token: String, expiresIn: Duration) {
        storage.withLockedValue { storage in
            if !forceRefresh, let current = storage.currentToken[appID], let issued = storage.tokens[current],
                issued.expiresAt > now
            {
                return (current, now.duration(to: issued.expiresAt))
            }
            if let previous = storage.currentToken[appID] { storage.tokens[previous] = nil }
            let token = SimulatorRandom.accessToken()
            storage.tokens[token] = IssuedToken(appID: appID, expiresAt: now.advanced(by: lifetime))
            storage.currentToken[appID] = token
            return (token, lifetime)
        }
    }

    func checkToken(_ token: String, now: ContinuousClock.Instant = .now) -> TokenCheck {
        storage.withLockedValue { storage in
            guard let issued = storage.tokens[token] else { return .unknown }
            return issued.expiresAt > now ? .valid(appID: issued.appID) : .expired
        }
    }

    /// Forgets every token of `appID`, as if another party had reset it; clients then get 40001.
    func invalidateTokens(appID: String) {
        storage.withLockedValue { storage in
            storage.tokens = storage.tokens.filter { $0.value.appID != appID }
            storage.currentToken[appID] = nil
        }
    }
}
