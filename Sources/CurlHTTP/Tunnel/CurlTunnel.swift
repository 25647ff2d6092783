import CCurl
import NIOConcurrencyHelpers
import NIOCore

/// An open (or opening) tunnel through a libcurl connect-only connection: the caller's handle for sending bytes to
/// the upstream, acknowledging bytes it received and closing.
///
/// Every method may be called from any thread at any time, also after the tunnel has ended, when it does nothing.
/// The connection itself is only touched on the tunnel's curl thread.
public final class CurlTunnel: @unchecked Sendable {
    /// What the caller and the curl thread share, under `lock`.
    struct Shared {
        /// Bytes from the client, not yet written to the upstream.
        var outbound = CircularBuffer<ByteBuffer>()
        var outboundBytes = 0
        /// Bytes reported in `.data` events and not yet acknowledged with `delivered`.
        var inFlight = 0
        /// `send` returned false: `.canSendMore` is owed once the queue drains below half the limit.
        var sendBlocked = false
        /// The curl thread stopped reading the upstream because `inFlight` reached the limit.
        var receiveBlocked = false
        var closeReason: String?
        var sendingFinished = false
        /// A `.service` command is queued and not yet taken.
        var serviceQueued = false
        /// The tunnel ended: nothing more is queued.
        var ended = false
    }

    let request: CurlTunnelRequest
    let thread: CurlTunnelThread
    private let lock = NIOLock()
    private var shared = Shared()

    /// State owned by the curl thread: only touched there, so it needs no lock.
    nonisolated(unsafe) var engine: CurlTunnelEngineState

    init(request: CurlTunnelRequest, delegate: any CurlTunnelDelegate, thread: CurlTunnelThread) {
        self.request = request
        self.thread = thread
        self.engine = CurlTunnelEngineState(delegate: delegate)
    }

    /// Queues bytes for the upstream. Returns false once the queue holds `bufferLimit` bytes or more: the caller
    /// should stop reading its side until `.canSendMore`. Never drops bytes while the tunnel is open.
    @discardableResult
    public func send(_ buffer: ByteBuffer) -> Bool {
        guard buffer.readableBytes > 0 else { return true }
        let (accepted, wake) = lock.withLock { () -> (Bool, Bool) in
            guard !shared.ended, !shared.sendingFinished else { return (true, false) }
            shared.outbound.append(buffer)
            shared.outboundBytes += buffer.readableBytes
            let accepted = shared.outboundBytes < request.bufferLimit
            if !accepted { shared.sendBlocked = true }
            return (accepted, queueService())
        }
        if wake { thread.submit(.service(self)) }
        return accepted
    }

    /// The caller has passed on `bytes` of the `.data` it received: the upstream may be read again once less than
    /// half the limit is outstanding.
    public func delivered(_ bytes: Int) {
        let wake = lock.withLock { () -> Bool in
            shared.inFlight -= bytes
            guard shared.receiveBlocked, !shared.ended, shared.inFlight < request.bufferLimit / 2 else { return false }
            shared.receiveBlocked = false
            return queueService()
        }
        if wake { thread.submit(.service(self)) }
    }

    /// The client's side is done: what is queued is still sent, then the tunnel ends with `.clientClosed`.
    public func finishSending() {
        let wake = lock.withLock { () -> Bool in
            guard !shared.ended, !shared.sendingFinished else { return false }
            shared.sendingFinished = true
            return queueService()
        }
        if wake { thread.submit(.service(self)) }
    }

    /// Ends the tunnel now; the delegate hears `.closed(.closedByGateway(reason))` unless it had already ended.
    public func close(reason: String) {
        let wake = lock.withLock { () -> Bool in
            guard !shared.ended, shared.closeReason == nil else { return false }
            shared.closeReason = reason
            return queueService()
        }
        if wake { thread.submit(.service(self)) }
    }

    /// Under `lock`: whether the caller must queue a `.service` command (none is queued yet).
    private func queueService() -> Bool {
        if shared.serviceQueued { return false }
        shared.serviceQueued = true
        return true
    }

    // MARK: For the curl thread

    func withShared<T>(_ body: (inout Shared) -> T) -> T {
        lock.withLock { body(&shared) }
    }
}

/// A tunnel's progress, owned by its curl thread.
struct CurlTunnelEngineState {
    enum Phase {
        case created
        case connecting
        case sendingHead(offset: Int)
        case readingAnswer(UpgradeAnswerReader)
        case open
        case ended
    }

    var phase = Phase.created
    var delegate: (any CurlTunnelDelegate)?
    var easy: UnsafeMutableRawPointer?
    var errorBuffer: UnsafeMutablePointer<CChar>?
    var socket: curl_socket_t = -1
    /// An `https://` upstream: libcurl's TLS layer may hold bytes the socket no longer signals.
    var isTLS = false
    /// Reading may find bytes without the socket signalling them (TLS records libcurl has already buffered, or a read
    /// cut short by its per-pass budget): read before polling again.
    var mayRead = false
    /// The last send met a full socket: wait for it to be writable.
    var wantsWrite = false
    /// Milliseconds on the monotonic clock of the last byte moved either way.
    var lastActivity: UInt64 = 0
    /// When the upgrade answer must have arrived (monotonic milliseconds; 0 = no limit).
    var answerDeadline: UInt64 = 0

    init(delegate: any CurlTunnelDelegate) {
        self.delegate = delegate
    }

    var isEnded: Bool {
        if case .ended = phase { return true }
        return false
    }
}
