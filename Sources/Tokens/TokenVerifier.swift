import Foundation

/// Checks bearer tokens synchronously, so the proxy can call it on an event loop without a `Task`.
///
/// Implementations are thread-safe and never block on I/O.
public protocol TokenVerifier: Sendable {
    /// Verifies `token` (the text after `Bearer `) at time `now`.
    func verify(_ token: Substring, now: Date) -> TokenVerification
}

extension TokenVerifier {
    /// Verifies `token` at time `now`.
    public func verify(_ token: String, now: Date) -> TokenVerification {
        verify(token[...], now: now)
    }
}
