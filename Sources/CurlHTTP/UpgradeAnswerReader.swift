/// Reads an upstream's answer to a forwarded upgrade request from the raw bytes of a connect-only connection.
///
/// A `101` ends the HTTP part: what follows its head belongs to the new protocol. Any other final answer is an
/// ordinary response whose body is read to its end, de-chunked, so the gateway can relay it as a normal answer and
/// close. Interim 1xx answers other than 101 are skipped (RFC 9110 section 15.2).
struct UpgradeAnswerReader {
    enum Step: Equatable {
        case needMore
        /// The upstream switched protocols; `leftover` is what it sent after the head.
        case switched(head: CurlResponseHead, leftover: [UInt8])
        /// The upstream answered without switching; `body` is the whole body, de-chunked.
        case refused(head: CurlResponseHead, body: [UInt8])
        case invalid(String)

        static func == (lhs: Step, rhs: Step) -> Bool {
            switch (lhs, rhs) {
            case (.needMore, .needMore): return true
            case (.switched(let a, let x), .switched(let b, let y)): return a.status == b.status && x == y
            case (.refused(let a, let x), .refused(let b, let y)): return a.status == b.status && x == y
            case (.invalid(let a), .invalid(let b)): return a == b
            default: return false
            }
        }
    }

    private enum Body {
        case length(Int)
        case chunked(ChunkedDecoder)
        /// Delimited by the upstream closing the connection.
        case untilClose
    }

    /// The most an answer's head may take, as libcurl's own limit for a response header block.
    let maxHeadBytes: Int
    /// The most of a refusal's body that is kept; a longer one makes the answer invalid.
    let maxBodyBytes: Int
    /// What a 101 must say to count as one; a 101 that says something else is invalid.
    let expectedSwitch: CurlSwitchExpectation?

    private var pending: [UInt8] = []
    private var parser = ResponseHeadParser()
    private var headBytes = 0
    private var head: CurlResponseHead?
    private var body: Body = .untilClose
    private var collected: [UInt8] = []
    private var done = false

    init(maxHeadBytes: Int = 100 * 1024, maxBodyBytes: Int = 1 << 20, expectedSwitch: CurlSwitchExpectation? = nil) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
        self.expectedSwitch = expectedSwitch
    }

    /// Takes the next bytes read from the upstream.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Step {
        guard !done else { return .invalid("bytes after the answer") }
        pending.append(contentsOf: bytes)
        if head == nil {
            guard let step = readHead() else { return .needMore }
            if case .needMore = step {} else { return step }
        }
        return readBody(atEnd: false)
    }

    /// The upstream closed the connection.
    mutating func finish() -> Step {
        guard !done else { return .invalid("bytes after the answer") }
        guard head != nil else { return .invalid("the upstream closed the connection before answering") }
        return readBody(atEnd: true)
    }

    /// Returns nil while the head is incomplete, `.needMore` once a final non-101 head is read, or a final step.
    private mutating func readHead() -> Step? {
        var start = 0
        defer { pending.removeFirst(start) }
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            headBytes += newline + 1 - start
            guard headBytes <= maxHeadBytes else { return finished(.invalid("answer header block too large")) }
            let isBlank = newline == start || (newline == start + 1 && pending[start] == UInt8(ascii: "\r"))
            if isBlank && parser.status == 101 {
                // The parser drops interim heads, and a 101 is one to it; here it is the final answer.
                let answer = parser.head
                start = newline + 1
                if let reason = expectedSwitch?.mismatch(in: answer) { return finished(.invalid(reason)) }
                return finished(.switched(head: answer, leftover: Array(pending[start...])))
            }
            let result = pending.withUnsafeBytes { raw in
                parser.parse(line: UnsafeRawBufferPointer(rebasing: raw[start...newline]))
            }
            start = newline + 1
            switch result {
            case .needMoreLines:
                continue
            case .malformed:
                return finished(.invalid("the answer is not HTTP/1.1"))
            case .complete:
                let answer = parser.head
                head = answer
                guard let framing = Self.framing(of: answer) else {
                    return finished(.invalid("the answer's body framing is invalid"))
                }
                body = framing
                return .needMore
            }
        }
        guard pending.count - start + headBytes <= maxHeadBytes else {
            return finished(.invalid("answer header block too large"))
        }
        return nil
    }

    private mutating func readBody(atEnd: Bool) -> Step {
        guard let head else { return .needMore }
        switch body {
        case .length(let left):
            let take = min(left, pending.count)
            guard collect(pending[..<take]) else { return finished(.invalid("answer body too large")) }
            pending.removeFirst(take)
            body = .length(left - take)
            if left - take == 0 { return finished(.refused(head: head, body: collected)) }
            return atEnd ? finished(.invalid("the upstream closed the connection mid-answer")) : .needMore
        case .chunked(var decoder):
            var decoded: [UInt8] = []
            let state = decoder.decode(&pending, into: &decoded)
            body = .chunked(decoder)
            guard collect(decoded[...]) else { return finished(.invalid("answer body too large")) }
            switch state {
            case .needMore:
                return atEnd ? finished(.invalid("the upstream closed the connection mid-answer")) : .needMore
            case .complete: return finished(.refused(head: head, body: collected))
            case .invalid: return finished(.invalid("the answer's chunked body is malformed"))
            }
        case .untilClose:
            guard collect(pending[...]) else { return finished(.invalid("answer body too large")) }
            pending.removeAll()
            return atEnd ? finished(.refused(head: head, body: collected)) : .needMore
        }
    }

    private mutating func collect(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard collected.count + bytes.count <= maxBodyBytes else { return false }
        collected.append(contentsOf: bytes)
        return true
    }

    private mutating func finished(_ step: Step) -> Step {
        done = true
        return step
    }

    /// RFC 9112 section 6.3: chunked wins; one valid Content-Length; otherwise the body runs to the close.
    /// Answers that never have a body (204, 304) have none here either.
    private static func framing(of head: CurlResponseHead) -> Body? {
        if head.status == 204 || head.status == 304 { return .length(0) }
        let codings = head.values(of: "transfer-encoding")
        if !codings.isEmpty {
            let last = codings.last?.split(separator: ",").last?.trimmingSpaces.lowercased()
            return last == "chunked" ? .chunked(ChunkedDecoder()) : .untilClose
        }
        let lengths = head.values(of: "content-length").flatMap { $0.split(separator: ",") }.map(\.trimmingSpaces)
        guard let first = lengths.first else { return .untilClose }
        guard lengths.allSatisfy({ $0 == first }), first.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            first.utf8.count <= 15, let length = Int(first)
        else { return nil }
        return .length(length)
    }
}

/// Decodes a chunked body (RFC 9112 section 7.1): sizes, extensions and trailers are consumed, data is kept.
struct ChunkedDecoder {
    enum State { case needMore, complete, invalid }

    private enum Phase {
        case size
        case data(left: Int)
        case dataEnd
        case trailers
    }

    private var phase = Phase.size

    mutating func decode(_ input: inout [UInt8], into output: inout [UInt8]) -> State {
        var index = 0
        defer { input.removeFirst(index) }
        while index < input.count {
            switch phase {
            case .size, .dataEnd, .trailers:
                guard let newline = input[index...].firstIndex(of: UInt8(ascii: "\n")) else {
                    return input.count - index > 4096 ? .invalid : .needMore
                }
                var line = input[index..<newline]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                index = newline + 1
                switch phase {
                case .size:
                    guard let size = Self.chunkSize(line) else { return .invalid }
                    phase = size == 0 ? .trailers : .data(left: size)
                case .dataEnd:
                    guard line.isEmpty else { return .invalid }
                    phase = .size
                default:
                    if line.isEmpty { return .complete }
                }
            case .data(let left):
                let take = min(left, input.count - index)
                output.append(contentsOf: input[index..<(index + take)])
                index += take
                phase = take == left ? .dataEnd : .data(left: left - take)
            }
        }
        return .needMore
    }

    private static func chunkSize(_ line: ArraySlice<UInt8>) -> Int? {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                return digits > 0 ? size : nil
            default: return nil
            }
            digits += 1
            guard digits <= 15 else { return nil }
            size = size * 16 + value
        }
        return digits > 0 ? size : nil
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring { self[...].trimmingSpaces }
}
