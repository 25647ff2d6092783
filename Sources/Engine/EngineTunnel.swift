/// One WebSocket tunnel of the engine (issue 23) as a state machine: events in, decisions out, no I/O. The worker
/// (`EngineWorker+Tunnel`) moves the bytes; this value decides which side may be read, which must be written, when a
/// side's end is passed on, and when the tunnel is idle.
///
/// No buffer is kept per tunnel: a read goes into the worker's one scratch buffer and is written to the other side at
/// once. Only what the other side did not take stays (`pending`), and while it does, the side it came from is not
/// read (back-pressure both ways, at the smallest size: one read; `[websocket] buffer` bounds what stays).
public struct EngineTunnel: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        /// libcurl connects (and runs the TLS handshake) with `CURLOPT_CONNECT_ONLY`.
        case connecting
        /// The upgrade request is written with `curl_easy_send`; `sent` bytes of it are out.
        case sendingHead(sent: Int)
        /// Waiting for the upstream's answer to the upgrade.
        case readingAnswer
        /// Switched: bytes are relayed both ways.
        case open
        case ended
    }

    public enum Side: Sendable, Equatable {
        case client, upstream

        /// The side bytes read from this one are written to.
        public var other: Side { self == .client ? .upstream : .client }
    }

    /// One direction of the relay, named after the side it is read from.
    public struct Direction: Sendable, Equatable {
        /// Bytes read and not yet taken by the other side.
        public var pending = 0
        /// The side read from sent its end (a read of zero bytes).
        public var sourceEnded = false
        /// The end was passed on: the other side's sending half is shut.
        public var passedEnd = false
        /// Since when `pending` waits for the other side (`CLOCK_MONOTONIC` ns; 0: nothing waits).
        public var heldSince: UInt64 = 0
    }

    /// What the worker must do after an event.
    public enum Step: Sendable, Equatable {
        case none
        /// Shut the sending half of this side (`shutdown(SHUT_WR)`): its peer sees the end, the other way goes on.
        case shutWrite(Side)
        /// Close both sides: the tunnel ended.
        case close
    }

    public private(set) var phase = Phase.connecting
    /// Client to upstream.
    public private(set) var fromClient = Direction()
    /// Upstream to client.
    public private(set) var fromUpstream = Direction()
    public private(set) var lastActivity: UInt64
    /// The upgrade request's length.
    public let headLength: Int
    /// `[websocket] idle_timeout` in ns; 0: none.
    public let idleTimeout: UInt64
    /// A TLS connection cannot shut only its sending half through libcurl: its end closes the tunnel instead.
    public let upstreamHalfCloses: Bool

    public init(headLength: Int, idleTimeout: UInt64, upstreamHalfCloses: Bool, now: UInt64) {
        self.headLength = headLength
        self.idleTimeout = idleTimeout
        self.upstreamHalfCloses = upstreamHalfCloses
        self.lastActivity = now
    }

    // MARK: - opening

    /// libcurl connected: the upgrade request is written next.
    public mutating func connected(now: UInt64) {
        guard phase == .connecting else { return }
        phase = .sendingHead(sent: 0)
        lastActivity = now
    }

    /// `count` more bytes of the upgrade request were sent. True: all of it is out, read the answer.
    public mutating func headSent(_ count: Int) -> Bool {
        guard case .sendingHead(let sent) = phase else { return false }
        let total = sent + count
        phase = total >= headLength ? .readingAnswer : .sendingHead(sent: total)
        return total >= headLength
    }

    /// The upstream switched (its 101 checked); `leftover` bytes after the 101 are for the client.
    public mutating func switched(leftover: Int, now: UInt64) {
        guard phase == .readingAnswer else { return }
        phase = .open
        lastActivity = now
        fromUpstream.pending = leftover
        if leftover > 0 { fromUpstream.heldSince = now }
    }

    /// The tunnel ends (closed by either side, failed, refused, revoked, timed out).
    public mutating func end() {
        phase = .ended
    }

    // MARK: - relay

    /// The worker may read `side` now: the tunnel is open, that side has not ended, nothing read from it waits, and
    /// all tunnels together hold less than their budget (`[websocket] max_buffered`).
    /// `budgetRoom` is asked last, and only of an open tunnel: the upgrade's answer is read whatever the budget.
    public func mayRead(_ side: Side, budgetRoom: @autoclosure () -> Bool = true) -> Bool {
        guard phase == .open else { return side == .upstream && phase == .readingAnswer }
        let direction = self.direction(from: side)
        return !direction.sourceEnded && direction.pending == 0 && budgetRoom()
    }

    /// The worker must wait for `side` to take more: bytes for it wait, or the upgrade request does.
    public func wantsWrite(_ side: Side) -> Bool {
        if case .sendingHead = phase { return side == .upstream }
        guard phase == .open else { return false }
        return direction(from: side.other).pending > 0
    }

    /// A read of `side` returned `count` bytes (0: its end); the worker writes them to the other side next and
    /// reports what was left with `wrote`.
    public mutating func read(_ count: Int, from side: Side, now: UInt64) -> Step {
        guard phase == .open else { return .none }
        if count == 0 {
            update(side) { $0.sourceEnded = true }
            return direction(from: side).pending == 0 ? passEnd(from: side) : .none
        }
        lastActivity = now
        update(side) { $0.pending += count }
        return .none
    }

    /// The other side of `side` took bytes: `remaining` of those read from `side` still wait.
    public mutating func wrote(from side: Side, remaining: Int, now: UInt64) -> Step {
        guard phase == .open else { return .none }
        let before = direction(from: side).pending
        if remaining < before { lastActivity = now }
        update(side) { direction in
            direction.pending = remaining
            if remaining == 0 {
                direction.heldSince = 0
            } else if direction.heldSince == 0 {
                direction.heldSince = now
            }
        }
        let direction = self.direction(from: side)
        return remaining == 0 && direction.sourceEnded && !direction.passedEnd ? passEnd(from: side) : .none
    }

    /// Bytes moved least recently at `idleSince`: a direction held by a side that takes nothing counts as idle from
    /// when it was held, whatever moves the other way (issue 22: a stalled side cannot keep a tunnel alive).
    public var idleSince: UInt64 {
        var since = lastActivity
        for held in [fromClient.heldSince, fromUpstream.heldSince] where held != 0 { since = min(since, held) }
        return since
    }

    /// True: the tunnel has been idle for `[websocket] idle_timeout` and must close.
    public func idleExpired(now: UInt64) -> Bool {
        guard idleTimeout > 0, phase == .open else { return false }
        let since = idleSince
        return now > since && now - since >= idleTimeout
    }

    /// Bytes held for the other sides, for the budget across tunnels.
    public var pendingBytes: Int { fromClient.pending + fromUpstream.pending }

    // MARK: - private

    private func direction(from side: Side) -> Direction {
        side == .client ? fromClient : fromUpstream
    }

    private mutating func update(_ side: Side, _ change: (inout Direction) -> Void) {
        if side == .client { change(&fromClient) } else { change(&fromUpstream) }
    }

    /// `side` ended and all it sent is passed on: the other side's sending half is shut, unless it cannot be (a TLS
    /// upstream) or the other way has ended too; then the tunnel closes.
    private mutating func passEnd(from side: Side) -> Step {
        update(side) { $0.passedEnd = true }
        let other = side.other
        if direction(from: other).passedEnd || (other == .upstream && !upstreamHalfCloses) {
            phase = .ended
            return .close
        }
        return .shutWrite(other)
    }
}
