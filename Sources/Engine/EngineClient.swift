#if canImport(Glibc)
import Glibc

/// One client connection's I/O side in a worker: its socket, read buffer, parser and output. Every decision about it
/// is its `EngineConnection` value's; this class only holds what the worker needs to perform them.
final class EngineClient {
    let fd: Int32
    let peer: String
    var connection = EngineConnection()
    /// The socket itself, or TLS over it.
    var transport = EngineTransport.plain
    /// In the worker's list of TLS connections to read again (`EngineWorker+TLS`).
    var isTLSPendingRead = false
    let parser = RequestHeadParser()
    /// Bytes read: `parsed` of them belong to requests taken from it; the rest wait for the parser.
    /// Replaced by a one-byte buffer once the connection is a tunnel (`releaseBuffersForTunnel`).
    private(set) var input: UnsafeMutableRawPointer
    private(set) var inputCapacity: Int
    var filled = 0
    var parsed = 0
    /// Answer bytes not yet taken by the socket, from `outputSent` on.
    var output: [UInt8] = []
    var outputSent = 0
    var transfer: EngineTransfer?
    /// The WebSocket tunnel this connection became (`EngineWorker+Tunnel`).
    var tunnel: EngineTunnelLink?
    var isOpen = true
    var request: InFlightRequest?
    /// A control-plane request being collected or answered (`EngineWorker+Control`).
    var control: EngineControlExchange?
    /// In the worker's list of connections to flush after this pass.
    var isDirty = false
    /// The read buffer is full while a request is answered: not read until it is parsed again.
    var readsHeld = false
    /// A request body's content waiting for libcurl, de-chunked in place by the parser: `input[bodyStart..<bodyEnd]`.
    /// Between `bodyEnd` and `parsed` lie bytes already used (the head, chunk framing); after `parsed`, bytes not yet
    /// parsed (a pipelined request after the body).
    var bodyStart = 0
    var bodyEnd = 0
    /// Lingering: the answer is written and the connection's sending side shut (`shutdown(SHUT_WR)`).
    var halfClosed = false
    /// Lingering ends at `lingerEnd` at the latest, or at `lingerIdleEnd` without a byte from the client
    /// (`CLOCK_MONOTONIC` nanoseconds), or after `lingerBytesLeft` more bytes.
    var lingerEnd: UInt64 = 0
    var lingerIdleEnd: UInt64 = 0
    var lingerBytesLeft = 0

    init(fd: Int32, peer: String, inputCapacity: Int) {
        self.fd = fd
        self.peer = peer
        self.inputCapacity = inputCapacity
        self.input = .allocate(byteCount: inputCapacity, alignment: 16)
        output.reserveCapacity(4096)
    }

    deinit {
        input.deallocate()
    }

    /// The connection became a WebSocket tunnel and its HTTP bytes are used up: its read and write buffers go, so an
    /// idle tunnel holds no buffer (the relay reads into the worker's scratch buffer).
    func releaseBuffersForTunnel() {
        input.deallocate()
        input = .allocate(byteCount: 1, alignment: 16)
        inputCapacity = 1
        filled = 0
        parsed = 0
        bodyStart = 0
        bodyEnd = 0
        output = []
        outputSent = 0
    }

    var pendingOutput: Int { output.count - outputSent }

    /// What holds room in the read buffer: body for libcurl and bytes not yet parsed.
    var waitingInput: Int { bodyEnd - bodyStart + filled - parsed }

    /// Gives the read buffer back to reading: the waiting body moves to the start, the bytes not yet parsed follow
    /// it, and what was used (the head, chunk framing, body libcurl took) is dropped. The parser keeps no pointer
    /// into the buffer between two calls, so moving its bytes is safe.
    func compactBody() {
        let pending = bodyEnd - bodyStart
        let rest = filled - parsed
        if pending > 0 && bodyStart > 0 { input.copyMemory(from: input + bodyStart, byteCount: pending) }
        if rest > 0 && parsed != pending { (input + pending).copyMemory(from: input + parsed, byteCount: rest) }
        bodyStart = 0
        bodyEnd = pending
        parsed = pending
        filled = pending + rest
    }

    /// The answered request's bytes leave the buffer; what follows (a pipelined request) moves to its start, so the
    /// next head's spans are offsets from zero.
    func discardParsedInput() {
        let rest = filled - parsed
        if rest > 0 && parsed > 0 { input.copyMemory(from: input + parsed, byteCount: rest) }
        filled = rest
        parsed = 0
        bodyStart = 0
        bodyEnd = 0
    }
}
#endif
