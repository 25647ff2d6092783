#if canImport(Glibc)
import Glibc

/// One client connection's I/O side in a worker: its socket, read buffer, parser and output. Every decision about it
/// is its `EngineConnection` value's; this class only holds what the worker needs to perform them.
final class EngineClient {
    let fd: Int32
    let peer: String
    var connection = EngineConnection()
    let parser = RequestHeadParser()
    /// Bytes read: `parsed` of them belong to requests taken from it; the rest wait for the parser.
    let input: UnsafeMutableRawPointer
    let inputCapacity: Int
    var filled = 0
    var parsed = 0
    /// Answer bytes not yet taken by the socket, from `outputSent` on.
    var output: [UInt8] = []
    var outputSent = 0
    var transfer: EngineTransfer?
    var isOpen = true
    var request: InFlightRequest?
    /// In the worker's list of connections to flush after this pass.
    var isDirty = false
    /// The read buffer is full while a request is answered: not read until it is parsed again.
    var readsHeld = false

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

    var pendingOutput: Int { output.count - outputSent }

    /// The answered request's bytes leave the buffer; what follows (a pipelined request) moves to its start, so the
    /// next head's spans are offsets from zero.
    func discardParsedInput() {
        let rest = filled - parsed
        if rest > 0 && parsed > 0 { input.copyMemory(from: input + parsed, byteCount: rest) }
        filled = rest
        parsed = 0
    }
}
#endif
