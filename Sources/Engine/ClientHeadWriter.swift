import GatewayCore
import JSON
import NIOHTTP1
import SmallHTTP

/// Writes what the client receives, as bytes into the connection's output: the head of an upstream's answer by
/// `HeaderRewriter`'s response rules on the byte view (`HeaderRewriter.responseFieldRule`),
/// body pieces in the framing `EngineConnection` chose, and the gateway's own answers (`GatewayError`).
enum ClientHeadWriter {
    struct Inspection: Equatable {
        /// False: a field may not be passed on (502, as nginx treats it).
        var passable: Bool
        /// The one Content-Length the answer gives, when it frames the body (not alongside chunked).
        var contentLength: ByteSpan?
    }

    /// The checks made before writing anything: valid names and values (on every answer), one Content-Length (repeats
    /// of the same number are one), and no Transfer-Encoding but a single `chunked` (on answers with a body).
    static func inspect(_ head: UpstreamHead) -> Inspection {
        // An invalid name or value was decided as its line arrived (`UpstreamHead.hasInvalidField`). Refused whatever
        // the status, as nginx does: an answer without a body has no framing to break, but its fields still reach
        // the client, and a bare CR in one could start a field of the upstream's choosing there (RFC 9110 section
        // 5.5). A 1xx head is never written (`EngineConnection.upstreamHeadReceived`), so this is the final one's.
        if head.hasInvalidField { return Inspection(passable: false, contentLength: nil) }
        let bodyless = head.status == 204 || head.status == 304 || head.status < 200
        var contentLength: ByteSpan?
        var lengthIsBroken = false
        var isChunked = false
        var codingIsBroken = false
        head.bytes.withUnsafeBytes { buffer in
            for field in head.fields {
                let value = field.value.bytes(in: buffer.baseAddress!)
                switch field.rule {
                case .contentLength:
                    // Repeats of one number are one length, on several lines or as a list ("5, 5", RFC 9110 section
                    // 8.6; libcurl reads the first); any other value, or a length past 64 bits, is a broken answer.
                    if value.isEmpty { lengthIsBroken = true }
                    ConnectionNames.forEachElement(of: value) { element in
                        let digits = UnsafeRawBufferPointer(rebasing: value[element])
                        if !isLength(digits) {
                            lengthIsBroken = true
                        } else if let first = contentLength {
                            lengthIsBroken = !first.bytes(in: buffer.baseAddress!).elementsEqual(digits)
                        } else {
                            contentLength = ByteSpan(
                                start: field.value.start + element.lowerBound, count: element.count)
                        }
                        return !lengthIsBroken
                    }
                case .transferEncoding:
                    // Element by element over all lines; empty elements are no coding (RFC 9110 section 5.6.1), as
                    // libcurl reads them.
                    ConnectionNames.forEachElement(of: value) { element in
                        let coding = UnsafeRawBufferPointer(rebasing: value[element])
                        codingIsBroken = isChunked || !ConnectionNames.equalsLowercased(coding, "chunked")
                        isChunked = true
                        return !codingIsBroken
                    }
                default: break
                }
            }
        }
        if (codingIsBroken || (lengthIsBroken && !isChunked)) && !bodyless {
            return Inspection(passable: false, contentLength: nil)
        }
        return Inspection(passable: true, contentLength: isChunked || bodyless ? nil : contentLength)
    }

    /// A Content-Length libcurl takes as one: decimal digits that fit in 64 bits (`curl_off_t`).
    static func isLength(_ digits: UnsafeRawBufferPointer) -> Bool {
        guard !digits.isEmpty else { return false }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= 48 && byte <= 57 else { return false }
            let (tens, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowedToo) = tens.addingReportingOverflow(Int64(byte - 48))
            if overflowed || overflowedToo { return false }
            value = sum
        }
        return true
    }

    /// The client's head for an upstream's answer. Written through a cursor into space reserved once per part (the
    /// status line and the upstream's fields; then the gateway's own fields), not by an `Array.append` per piece with
    /// its uniqueness and capacity checks: this runs for every proxied response (profile: `writeHead` 0.93%).
    static func writeHead(
        _ head: UpstreamHead, contentLength: ByteSpan?, framing: EngineConnection.BodyFraming, closes: Bool,
        requestID: String, isHTTP10: Bool, cors: CorsPolicy.AnswerFields = .none, into out: inout [UInt8]
    ) {
        var corsVary: [(name: String, value: String)] = []
        var sawRequestID = false
        var hasDate = false
        // Each field's name and value come from its line in `head.bytes` (with at least the colon between them), so
        // the lines' bytes and a colon, space, CR and LF per field bound what the fields take.
        let fieldsLength = head.bytes.count + 4 &* head.fields.count + 18 + (contentLength?.count ?? 0)
        let statusLine = statusLineBytes(head.status, http10: isHTTP10)
        write(into: &out, atMost: statusLine.count + fieldsLength) { cursor in
            statusLine.withUnsafeBufferPointer { cursor.appendBytes($0) }
            head.bytes.withUnsafeBytes { buffer in
                let base = buffer.baseAddress!
                var named = ConnectionNames()
                for field in head.fields where field.rule == .connection {
                    named.add(listedIn: field.value.bytes(in: base))
                }
                for field in head.fields {
                    let name = field.name.bytes(in: base)
                    switch field.rule {
                    case .drop, .contentLength, .transferEncoding, .connection: continue
                    case .requestID: sawRequestID = true
                    case .date: hasDate = true
                    case .pass: break
                    }
                    if named.contains(name) { continue }
                    // CORS on: the upstream's Access-Control-* give way to the gateway's, written below.
                    if cors.isActive && Self.isCorsField(name, value: field.value.bytes(in: base), vary: &corsVary) {
                        continue
                    }
                    append(name, to: &cursor)
                    cursor.appendRaw(": ")
                    append(field.value.bytes(in: base), to: &cursor)
                    cursor.appendRaw("\r\n")
                }
                if let contentLength {
                    cursor.appendRaw("Content-Length: ")
                    append(contentLength.bytes(in: base), to: &cursor)
                    cursor.appendRaw("\r\n")
                }
            }
        }
        for line in cors.lines(after: corsVary) { field(line.name, line.value, into: &out) }
        // RFC 9110 section 6.6.1: a proxy adds the Date an upstream without a clock left out, as nginx does.
        let date = hasDate ? "" : HTTPDate.now()
        let ownLength = 16 + requestID.utf8.count + 8 + date.utf8.count + 28 + 24 + 2
        write(into: &out, atMost: ownLength) { cursor in
            if !sawRequestID {
                cursor.appendRaw("X-Request-Id: ")
                append(requestID, to: &cursor)
                cursor.appendRaw("\r\n")
            }
            if !hasDate {
                cursor.appendRaw("Date: ")
                append(date, to: &cursor)
                cursor.appendRaw("\r\n")
            }
            if framing == .chunked { cursor.appendRaw("Transfer-Encoding: chunked\r\n") }
            if closes {
                cursor.appendRaw("Connection: close\r\n")
            } else if isHTTP10 {
                cursor.appendRaw("Connection: keep-alive\r\n")
            }
            cursor.appendRaw("\r\n")
        }
    }

    /// One piece of a chunked body (RFC 9112 section 7.1).
    static func writeChunk(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        out.append(contentsOf: String(bytes.count, radix: 16).utf8)
        append("\r\n", to: &out)
        out.append(contentsOf: bytes)
        append("\r\n", to: &out)
    }

    static func writeLastChunk(into out: inout [UInt8]) {
        append("0\r\n\r\n", to: &out)
    }

    /// The gateway's own answer: JSON with the request id, the mark and any challenge (`GatewayError`). Returns the
    /// status and the body bytes written.
    static func writeAnswer(
        _ error: GatewayError, requestID: String, realm: String, isHead: Bool, closes: Bool, isHTTP10: Bool,
        cors: CorsPolicy.AnswerFields = .none, into out: inout [UInt8]
    ) -> (status: Int, bodyBytes: Int) {
        let status = Int(error.status.code)
        let body = error.jsonBody(requestID: requestID)
        writeStatusLine(status, http10: isHTTP10, into: &out)
        // The gateway's own error answer: a JSON body (`GatewayError.body`) with the mark and any challenge.
        field("Content-Type", "application/json; charset=utf-8", into: &out)
        field("Content-Length", String(body.utf8.count), into: &out)
        field("X-Request-Id", requestID, into: &out)
        for (name, value) in error.headers(realm: realm) { field(name, value, into: &out) }
        for line in cors.lines(after: []) { field(line.name, line.value, into: &out) }
        field("Date", HTTPDate.now(), into: &out)
        if closes {
            append("Connection: close\r\n", to: &out)
        } else if isHTTP10 {
            append("Connection: keep-alive\r\n", to: &out)
        }
        append("\r\n", to: &out)
        if isHead { return (status, 0) }
        out.append(contentsOf: body.utf8)
        return (status, body.utf8.count)
    }

    /// An HTTP/1.0 client is answered in its version, as NIO's encoder answers it (RFC 9110 section 6.2 lets a
    /// server send its own; clients written against HTTP/1.0 read their own best).
    static func writeStatusLine(_ status: Int, http10: Bool = false, into out: inout [UInt8]) {
        if (100...599).contains(status) {
            out.append(contentsOf: (http10 ? statusLines10 : statusLines11)[status - 100])
            return
        }
        out.append(contentsOf: statusLine(status, http10: http10))
    }

    /// The status line `writeStatusLine` writes, as bytes (the table's entry for 100-599).
    private static func statusLineBytes(_ status: Int, http10: Bool) -> [UInt8] {
        if (100...599).contains(status) { return (http10 ? statusLines10 : statusLines11)[status - 100] }
        return statusLine(status, http10: http10)
    }

    /// Every status line of 100-599, built once: the reason phrase and the decimal code were a `String` each per
    /// answer, on every proxied response.
    private static let statusLines11 = (100...599).map { statusLine($0, http10: false) }
    private static let statusLines10 = (100...599).map { statusLine($0, http10: true) }

    private static func statusLine(_ status: Int, http10: Bool) -> [UInt8] {
        let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
        return Array("\(http10 ? "HTTP/1.0" : "HTTP/1.1") \(status) \(reason)\r\n".utf8)
    }

    static func field(_ name: String, _ value: String, into out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        append(": ", to: &out)
        out.append(contentsOf: value.utf8)
        append("\r\n", to: &out)
    }

    static func append(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends at most `maximumLength` bytes to `out` through a cursor: one capacity and uniqueness check for them
    /// all. `JSONByteCursor` stops the process rather than write past the space, should a bound be wrong.
    @inline(__always)
    private static func write(
        into out: inout [UInt8], atMost maximumLength: Int, _ body: (inout JSONByteCursor) -> Void
    ) {
        out.append(addingCapacity: maximumLength) { span in
            span.withUnsafeMutableBufferPointer { space, count in
                var cursor = JSONByteCursor(space)
                body(&cursor)
                count = cursor.count
            }
        }
    }

    @inline(__always)
    private static func append(_ bytes: UnsafeRawBufferPointer, to cursor: inout JSONByteCursor) {
        cursor.appendBytes(bytes.assumingMemoryBound(to: UInt8.self))
    }

    @inline(__always)
    private static func append(_ text: String, to cursor: inout JSONByteCursor) {
        let copied = text.utf8.withContiguousStorageIfAvailable { cursor.appendBytes($0) }
        if copied == nil {
            for byte in text.utf8 { cursor.appendByte(byte) }
        }
    }
}
