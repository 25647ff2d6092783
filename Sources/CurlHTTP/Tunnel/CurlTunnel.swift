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
        /// Since when (monotonic milliseconds; 0 = not held) `send` has been refusing more, and the upstream has not
        /// been read for `inFlight`: a tunnel held either way longer than the idle timeout is closed as idle.
        var sendHeldSince: UInt64 = 0
        var receiveHeldSince: UInt64 = 0
        /// When the caller last acknowledged bytes (`delivered`): a client still reading is held, not idle.
        var lastDelivery: UInt64 = 0
        var closeReason: String?
        var sendingFinished = false
        /// A `.service` command is queued and not yet taken.
        var serviceQueued = false
        /// The tunnel ended: nothing more is queued.
        var ended = false
    }

    let request: CurlTunnelRequest
    let thread: CurlTunnelThread
    /// What all tunnels of the client hold together.
    let budget: CurlTunnelBudget
    private let lock = NIOLock()
    private var shared = Shared()

    /// State owned by the curl thread: only touched there, so it needs no lock.
    nonisolated(unsafe) var engine: CurlTunnelEngineState

    init(
        request: CurlTunnelRequest, delegate: any CurlTunnelDelegate, thread: CurlTunnelThread,
        budget: CurlTunnelBudget
    ) {
        self.request = request
        self.thread = thread
        self.budget = budget
        self.engine = CurlTunnelEngineState(delegate: delegate)
    }

    /// Queues bytes for the upstream. Returns false once the queue holds `bufferLimit` bytes or more, or all tunnels
    /// together hold `totalBufferLimit`: the caller should stop reading its side until `.canSendMore`. Never drops
    /// bytes while the tunnel is open.
    @discardableResult
    public func send(_ buffer: ByteBuffer) -> Bool {
        guard buffer.readableBytes > 0 else { return true }
        let (accepted, wake) = lock.withLock { () -> (Bool, Bool) in
            guard !shared.ended, !shared.sendingFinished else { return (true, false) }
            shared.outbound.append(buffer)
            shared.outboundBytes += buffer.readableBytes
            budget.take(buffer.readableBytes)
            let hasRoom = budget.hasRoom(below: request.totalBufferLimit)
            let accepted = shared.outboundBytes < request.bufferLimit && hasRoom
            if !accepted {
                shared.sendBlocked = true
                if shared.sendHeldSince == 0 { shared.sendHeldSince = CurlTunnelThread.monotonicMilliseconds() }
                if !hasRoom { budget.awaitRoom() }
            }
            return (accepted, queueService())
        }
        if wake { thread.submit(.service(self)) }
        return accepted
    }

    /// The caller has passed on `bytes` of the `.data` it received: the upstream may be read again once less than
    /// half the limit is outstanding.
    public func delivered(_ bytes: Int) {
        let wake = lock.withLock { () -> Bool in
            // An ended tunnel gave back what it held.
            guard !shared.ended else { return false }
            shared.inFlight -= bytes
            if bytes > 0 { shared.lastDelivery = CurlTunnelThread.monotonicMilliseconds() }
            budget.give(bytes)
            guard shared.receiveBlocked, shared.inFlight < request.bufferLimit / 2 else { return false }
            shared.receiveBlocked = false
            shared.receiveHeldSince = 0
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

    /// `bytes` read from the upstream are on their way to the caller; at `bufferLimit` in flight, reading stops.
    func holdReceived(_ bytes: Int, now: @autoclosure () -> UInt64) {
        lock.withLock {
            shared.inFlight += bytes
            budget.take(bytes)
            if shared.inFlight >= request.bufferLimit {
                shared.receiveBlocked = true
                if shared.receiveHeldSince == 0 { shared.receiveHeldSince = now() }
            }
        }
    }

    /// `bytes` of the queue went to the upstream. Returns whether `.canSendMore` is owed now: `send` had refused,
    /// the queue is below half its limit, and all tunnels together are below theirs (else the budget's next `give`
    /// wakes the thread to ask again, through `pollState`).
    func sent(_ bytes: Int) -> Bool {
        lock.withLock {
            shared.outbound[shared.outbound.startIndex].moveReaderIndex(forwardBy: bytes)
            if shared.outbound[shared.outbound.startIndex].readableBytes == 0 { shared.outbound.removeFirst() }
            shared.outboundBytes -= bytes
            budget.give(bytes)
            // The upstream took some: still held, perhaps, but not stuck.
            if shared.sendHeldSince != 0 { shared.sendHeldSince = CurlTunnelThread.monotonicMilliseconds() }
            return releaseSendHoldLocked()
        }
    }

    /// Whether the upstream's reading is held for the bytes in flight, and whether `.canSendMore` is owed now (see
    /// `sent`).
    func pollState() -> (receiveBlocked: Bool, canSendMore: Bool) {
        lock.withLock { (shared.receiveBlocked, shared.sendBlocked ? releaseSendHoldLocked() : false) }
    }

    private func releaseSendHoldLocked() -> Bool {
        guard shared.sendBlocked, shared.outboundBytes < request.bufferLimit / 2 else { return false }
        guard budget.hasRoom(below: request.totalBufferLimit) else {
            budget.awaitRoom()
            return false
        }
        shared.sendBlocked = false
        shared.sendHeldSince = 0
        return true
    }

    /// Curl thread: since when (monotonic milliseconds) the tunnel counts as idle: the last byte moved either way
    /// (read, written, or taken by the caller's side), but, while a side is held by back-pressure (`bufferLimit` or
    /// the budget), no later than the last time what it holds moved. A busy side must not keep the other's bytes
    /// for ever; a slow reader that still reads is not idle.
    func idleSince() -> UInt64 {
        let (send, receive, delivery) = lock.withLock {
            (shared.sendHeldSince, shared.receiveHeldSince, shared.lastDelivery)
        }
        var since = max(engine.lastActivity, delivery)
        if send != 0 { since = min(since, send) }
        if let hold = [receive, engine.budgetHeldSince].filter({ $0 != 0 }).min() {
            since = min(since, max(hold, delivery))
        }
        return since
    }

    /// Curl thread: whether reading the upstream still waits for room in the budget (`engine.budgetHeldSince`); once
    /// there is room, it is read at once.
    func isHeldByBudget() -> Bool {
        guard engine.budgetHeldSince != 0 else { return false }
        guard budget.hasRoom(below: request.totalBufferLimit) else {
            budget.awaitRoom()
            return true
        }
        engine.budgetHeldSince = 0
        engine.mayRead = true
        return false
    }

    /// The tunnel ended: nothing more is queued, and what it held is given back to the budget.
    func markEnded() {
        lock.withLock {
            shared.ended = true
            budget.give(shared.outboundBytes + shared.inFlight)
            shared.outbound.removeAll()
            shared.outboundBytes = 0
            shared.inFlight = 0
        }
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
    /// Since when the upstream has not been read because all tunnels together hold `totalBufferLimit` (0 = not).
    var budgetHeldSince: UInt64 = 0

    init(delegate: any CurlTunnelDelegate) {
        self.delegate = delegate
    }

    var isEnded: Bool {
        if case .ended = phase { return true }
        return false
    }
}
