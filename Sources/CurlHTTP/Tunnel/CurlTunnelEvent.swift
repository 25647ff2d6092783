import NIOCore

/// What a tunnel reports to its delegate, in this order: one of `switched` or `refused`, or a `closed` before
/// either; after `switched`, any number of `data` and `canSendMore`, then exactly one `closed`. `refused` and `closed`
/// are final.
public enum CurlTunnelEvent: Sendable {
    /// The upstream answered 101: bytes flow both ways from now on.
    case switched(CurlResponseHead)
    /// The upstream answered the upgrade with another status; `body` is its whole body, de-chunked. The connection to
    /// the upstream is closed.
    case refused(CurlResponseHead, body: ByteBuffer)
    /// Bytes from the upstream. The receiver calls `CurlTunnel.delivered(_:)` once they are written on.
    case data(ByteBuffer)
    /// The queue towards the upstream went below its limit after `send` had returned false.
    case canSendMore
    /// The tunnel ended; the upstream connection is closed.
    case closed(CurlTunnelEnd)
}

/// Why a tunnel ended.
public enum CurlTunnelEnd: Sendable, Equatable {
    /// `finishSending()` was called and everything queued was sent.
    case clientClosed
    /// The upstream closed its side.
    case upstreamClosed
    /// `close(reason:)` (or the client's shutdown, reason "shutdown"), or the idle timeout ("idle_timeout").
    case closedByGateway(String)
    /// Connecting, the upgrade exchange or the relay failed.
    case failed(CurlError)
}

/// Receives a tunnel's events, on its curl thread, one at a time.
public protocol CurlTunnelDelegate: AnyObject, Sendable {
    func tunnel(_ tunnel: CurlTunnel, didReport event: CurlTunnelEvent)
}
