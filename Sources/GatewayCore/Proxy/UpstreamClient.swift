import CurlHTTP
import NIOCore

/// What the proxy needs of the client that reaches upstreams: `CurlClient` in production, a scripted one in
/// the handler's `EmbeddedChannel` tests. Events of a started transfer come back through the exchange
/// (`UpstreamExchange.post`), on whatever thread the client runs them; after each pass over its transfers the
/// client calls the pass observers, which is when `UpstreamEventInbox` hands a batch to the event loop.
protocol UpstreamClient: Sendable {
    func start(_ request: CurlRequest, for exchange: UpstreamExchange, affinity: Int) -> any UpstreamTransfer
    func addPassObserver(thread: Int, _ observer: @escaping @Sendable () -> Void)
}

/// One transfer in flight, as the proxy drives it: request-body streaming, response back-pressure, cancel.
protocol UpstreamTransfer: AnyObject, Sendable {
    /// Queues request-body bytes; `false` when the queue is full (wait for `.canAcceptMoreBody`).
    func writeBody(_ buffer: ByteBuffer) -> Bool
    func finishBody()
    func pauseResponse()
    func resumeResponse()
    func cancel()
}

extension CurlTransfer: UpstreamTransfer {}

extension CurlClient: UpstreamClient {
    func start(_ request: CurlRequest, for exchange: UpstreamExchange, affinity: Int) -> any UpstreamTransfer {
        execute(request, delegate: exchange, affinity: affinity)
    }
}
