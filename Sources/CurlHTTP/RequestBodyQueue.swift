import NIOCore

/// The request-body chunks a producer has handed over and libcurl's read callback has not yet taken.
///
/// Shared between the producer's thread and the curl thread (always used under the transfer's lock); it decides
/// who must be woken: the read callback when it paused on an empty queue and data or the end arrives, and the
/// producer when the queue drains below the low-water mark after `append` told it to stop.
struct RequestBodyQueue {
    /// Above this many queued bytes `append` asks the producer to stop.
    static let highWaterMark = 256 * 1024
    /// At or below this many queued bytes a stopped producer is told to go on.
    static let lowWaterMark = 64 * 1024

    enum End: Equatable {
        case open
        case finished
        case aborted
    }

    /// What the read callback should tell libcurl.
    enum ReadOutcome: Equatable {
        case bytes(Int)
        /// Nothing queued yet: return `CURL_READFUNC_PAUSE`; a later `append` or `finish` will ask for a resume.
        case pause
        /// The body is complete: return 0.
        case end
        /// The producer gave up: return `CURL_READFUNC_ABORT`.
        case abort
    }

    private var chunks = CircularBuffer<ByteBuffer>()
    private(set) var queuedBytes = 0
    private(set) var end = End.open
    /// The read callback returned pause and nobody has asked for a resume since.
    private(set) var readerPaused = false
    /// `append` returned false and the producer has not been told to go on since.
    private(set) var producerWaiting = false

    init() {}

    /// A queue already holding a complete body.
    init(complete buffer: ByteBuffer) {
        if buffer.readableBytes > 0 {
            chunks.append(buffer)
            queuedBytes = buffer.readableBytes
        }
        end = .finished
    }

    /// Queues a chunk. `accepted` is false when the producer should wait for `transferCanAcceptMoreBody`;
    /// `resumeReader` is true when the caller must ask the curl thread to unpause the upload.
    mutating func append(_ buffer: ByteBuffer) -> (accepted: Bool, resumeReader: Bool) {
        guard end == .open else { return (true, false) }
        if buffer.readableBytes > 0 {
            chunks.append(buffer)
            queuedBytes += buffer.readableBytes
        }
        let accepted = queuedBytes <= Self.highWaterMark
        if !accepted { producerWaiting = true }
        return (accepted, takeReaderResume())
    }

    /// Marks the end of the body. Returns true when the caller must ask for the upload to be unpaused.
    mutating func finish() -> Bool {
        guard end == .open else { return false }
        end = .finished
        return takeReaderResume()
    }

    /// Marks the body as failed and drops what is queued. Returns false if the body had already ended.
    mutating func abort() -> Bool {
        guard end == .open else { return false }
        end = .aborted
        chunks.removeAll()
        queuedBytes = 0
        producerWaiting = false
        return true
    }

    /// Copies as much as fits into `destination`. `notifyProducer` is true when a waiting producer may go on.
    mutating func read(
        into destination: UnsafeMutableRawBufferPointer
    ) -> (
        outcome: ReadOutcome, notifyProducer: Bool
    ) {
        if end == .aborted { return (.abort, false) }
        var copied = 0
        while copied < destination.count, var chunk = chunks.first {
            let n = min(chunk.readableBytes, destination.count - copied)
            chunk.withUnsafeReadableBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: destination[copied..<(copied + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<n]))
            }
            chunk.moveReaderIndex(forwardBy: n)
            copied += n
            if chunk.readableBytes == 0 {
                chunks.removeFirst()
            } else {
                chunks[chunks.startIndex] = chunk
            }
        }
        queuedBytes -= copied
        var notify = false
        if producerWaiting && queuedBytes <= Self.lowWaterMark {
            producerWaiting = false
            notify = true
        }
        if copied > 0 { return (.bytes(copied), notify) }
        if end == .finished { return (.end, notify) }
        readerPaused = true
        return (.pause, notify)
    }

    private mutating func takeReaderResume() -> Bool {
        guard readerPaused else { return false }
        readerPaused = false
        return true
    }
}
