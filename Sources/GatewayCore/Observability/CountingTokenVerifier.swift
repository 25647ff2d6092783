import Foundation
import Tokens

/// Counts the verifier's rejections by reason (`expired`, `bad_signature`, `wrong_issuer`, `revoked`...)
/// on the proxy path, without the proxy handler or the authenticator knowing about metrics. Wraps the
/// caching verifier, so a token refused from the cache is counted as often as it is presented.
public struct CountingTokenVerifier: TokenVerifier {
    public let wrapped: any TokenVerifier
    /// `wrapped` when it is the cache (as the gateway builds it): the engine's per-request check calls it directly,
    /// not through a protocol witness as well as this wrapper's.
    private let cache: CachingTokenVerifier?
    private let metrics: GatewayMetrics

    public init(wrapping verifier: any TokenVerifier, metrics: GatewayMetrics) {
        self.wrapped = verifier
        self.cache = verifier as? CachingTokenVerifier
        self.metrics = metrics
    }

    public func verify(_ token: Substring, now: Date) -> TokenVerification {
        counted(wrapped.verify(token, now: now))
    }

    public func verify(utf8 token: UnsafeRawBufferPointer, now: Date) -> TokenVerification {
        if let cache { return counted(cache.verify(utf8: token, now: now)) }
        return counted(wrapped.verify(utf8: token, now: now))
    }

    /// `consuming`: the result passes through without a copy of its claims.
    private func counted(_ result: consuming TokenVerification) -> TokenVerification {
        if case .invalid(let rejection) = result {
            metrics.recordTokenFailure(reason: rejection.reason)
        }
        return result
    }
}
