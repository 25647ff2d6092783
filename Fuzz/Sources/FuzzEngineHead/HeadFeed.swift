@testable import Engine

/// What one request looked like to the engine, copied out of the read buffer so that two feeds of the same bytes
/// can be compared.
struct ParsedRequest: Equatable {
    var method: String
    var target: [UInt8]
    var version: [Int]
    var fields: [[UInt8]]
    var flags: [Bool]
    var bodyLength: Int?
    /// The body's content as `parseBody` gathered it (chunk framing removed); nil for a request without one.
    var body: [UInt8]?

    init(_ head: RequestHead, in buffer: UnsafeRawPointer) {
        method = head.method
        target = Array(head.target.bytes(in: buffer))
        version = [head.versionMajor, head.versionMinor]
        // Name and value of each field, with a separator no parsed name can hold.
        fields = head.fields.map { Array($0.name.bytes(in: buffer)) + [0] + Array($0.value.bytes(in: buffer)) }
        flags = [
            head.keepAlive, head.hasBody, head.expectsContinue, head.hasTransferEncoding, head.transferCodingRefused,
            head.isUpgrade,
        ]
        bodyLength = head.bodyLength
    }
}

/// How a feed ended: every byte taken (a head may be half-way), a parse error, or a request after which the worker
/// stops parsing (an upgrade, a body it refuses from the head).
enum FeedEnd: Equatable {
    case needMore
    case invalid
    case stopped
}

/// Feeds bytes to `RequestHeadParser` as the worker does (`EngineWorker.parseRequests` and `parseBody`): one read
/// buffer, `filled` bytes in it, `parsed` of them taken, heads and bodies recorded as spans into it. `cuts` are the
/// read boundaries; the bytes not read yet are poison, so a parser that looked past `filled` gives another answer.
struct HeadFeed {
    static let poison: UInt8 = 0xA5
    static let maxBodyBytes = 1 << 20

    /// `onHead` sees each head while its spans are valid (before its body is parsed).
    static func run(
        _ bytes: [UInt8], cuts: [Int], onHead: (RequestHead, UnsafeMutableRawPointer) -> Void = { _, _ in }
    ) -> (requests: [ParsedRequest], end: FeedEnd) {
        // Exactly the input's size: ASan reports a read past the last byte given.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: poison, count: max(bytes.count, 1))
        let parser = RequestHeadParser()
        var requests: [ParsedRequest] = []
        var filled = 0
        var parsed = 0
        var inBody = false
        var bodyStart = 0
        var bodyEnd = 0
        for cut in cuts + [bytes.count] where cut > filled {
            bytes.withUnsafeBytes { source in
                (buffer + filled).copyMemory(from: source.baseAddress! + filled, byteCount: cut - filled)
            }
            filled = cut
            while filled > parsed {
                if inBody {
                    switch parser.parseBody(buffer, from: parsed, count: filled - parsed, bodyEnd: &bodyEnd) {
                    case .needMore:
                        parsed = filled
                    case .ended(let consumed):
                        parsed += consumed
                        requests[requests.count - 1].body = Array(
                            UnsafeRawBufferPointer(start: buffer + bodyStart, count: bodyEnd - bodyStart))
                        inBody = false
                    case .invalid:
                        return (requests, .invalid)
                    }
                    continue
                }
                switch parser.parse(buffer, from: parsed, count: filled - parsed) {
                case .needMore:
                    parsed = filled
                case .invalid:
                    return (requests, .invalid)
                case .request(let consumed):
                    precondition(
                        consumed >= 0 && consumed <= filled - parsed, "consumed \(consumed) of \(filled - parsed)")
                    parsed += consumed
                    let head = parser.head
                    checkSpans(head, filled: parsed)
                    requests.append(ParsedRequest(head, in: buffer))
                    onHead(head, buffer)
                    // The worker stops reading requests after these: a tunnel or a close follows.
                    if head.isUpgrade
                        || (head.hasBody && EngineWorker.refusal(of: head, maxBodyBytes: maxBodyBytes) != nil)
                    {
                        return (requests, .stopped)
                    }
                    if head.hasBody {
                        inBody = true
                        bodyStart = parsed
                        bodyEnd = parsed
                    }
                }
            }
        }
        return (requests, .needMore)
    }

    /// Every span of a head lies within the bytes taken so far.
    private static func checkSpans(_ head: RequestHead, filled: Int) {
        let spans = [head.target] + head.fields.flatMap { [$0.name, $0.value] }
        for span in spans {
            precondition(span.start >= 0 && span.count >= 0 && span.end <= filled, "span \(span) outside \(filled)")
        }
    }
}
