import Foundation

/// Checks bearer tokens synchronously, so the proxy can call it on an event loop without a `Task`.
///
/// Implementations are thread-safe and never block on I/O.
public protocol TokenVerifier: Sendable {
    /// Verifies `token` (the text after `Bearer `) at time `now`.
    func verify(_ token: Substring, now: Date) -> TokenVerification

    /// Verifies the token given as its UTF-8 bytes (the engine's read buffer): a cache can look it up without a
    /// `String` per request.
    func verify(utf8 token: UnsafeRawBufferPointer, now: Date) -> TokenVerification
}

extension TokenVerifier {
    /// As `verify(_:now:)`, on a `String` made of the bytes.
    public func verify(utf8 token: UnsafeRawBufferPointer, now: Date) -> TokenVerification {
        verify(String(decoding: token, as: UTF8.self)[...], now: now)
    }

    /// Verifies `token` at time `now`.
    public func verify(_ token: String, now: Date) -> TokenVerification {
        verify(token[...], now: now)
    }
}
