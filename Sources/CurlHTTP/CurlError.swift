/// Why a transfer failed. The cases are the distinctions a proxy acts on, not libcurl's codes: each maps to one
/// answer (`couldNotConnect` → 502, `timedOut` → 504, `brokenResponse` → cut the client connection).
public enum CurlError: Error, Sendable, Equatable {
    /// No connection: refused, unresolvable, unreachable, or TLS handshake failed. The request was never sent, so an
    /// idempotent request may be retried on another upstream.
    case couldNotConnect(String)
    /// The connect timeout, the total timeout or the low-speed (idle) limit was hit.
    case timedOut(String)
    /// The upstream closed the connection or sent something that is not HTTP, before the response was complete.
    case brokenResponse(String)
    /// The caller cancelled the transfer.
    case cancelled
    /// The request body could not be sent, e.g. because its producer aborted it.
    case requestBodyFailed(String)
    /// Anything else; `code` is libcurl's `CURLcode`.
    case other(code: Int, String)
}
