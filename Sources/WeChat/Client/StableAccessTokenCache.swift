/// The stable access token of each app, fetched once and shared: concurrent callers wait for the
/// same in-flight fetch instead of each asking WeChat, and a token is reused until
/// `AccessTokenRefreshPolicy` says to let go of it.
actor StableAccessTokenCache {
    struct Token: Sendable {
        var value: String
        var refreshAt: ContinuousClock.Instant
    }

    typealias Fetch = @Sendable () async -> Result<Token, WeChatError>

    private enum Entry {
        case fetching(Task<Result<Token, WeChatError>, Never>)
        case cached(Token)
    }

    private var entries: [String: Entry] = [:]

    func token(
        appID: String, now: ContinuousClock.Instant = .now, fetch: @escaping Fetch
    ) async throws(WeChatError)
        -> String
    {
        switch entries[appID] {
        case .cached(let token) where token.refreshAt > now:
            return token.value
        case .fetching(let task):
            return try await task.value.get().value
        case .cached, nil:
            let task = Task { await fetch() }
            entries[appID] = .fetching(task)
            let result = await task.value
            switch result {
            case .success(let token): entries[appID] = .cached(token)
            case .failure: entries[appID] = nil
            }
            return try result.get().value
        }
    }

    /// Drops `token` after WeChat rejected it; a newer token fetched meanwhile is kept.
    func invalidate(appID: String, token: String) {
        if case .cached(let cached) = entries[appID], cached.value == token {
            entries[appID] = nil
        }
    }
}
