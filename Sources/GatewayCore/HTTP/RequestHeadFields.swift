import NIOHTTP1

/// What the proxy needs from a request's header block, gathered in one pass over it: the request path runs this
/// for every request, where a lookup per field would walk the block five times.
///
/// Field lines are counted whole (an empty second `Host` line still makes two), as `HTTPHeaders.fieldLines` does;
/// list-valued fields (`Transfer-Encoding`, `Expect`) are read element by element, as `canonicalForm` would.
struct RequestHeadFields: Equatable {
    /// The first `Host` line and how many there are.
    var host: String?
    var hostCount = 0
    /// The first `X-Request-Id` line and how many there are.
    var requestID: String?
    var requestIDCount = 0
    /// The first `Content-Length` value, if it is a number.
    var contentLength: Int?
    /// A `Transfer-Encoding` with any coding: the request has a body of unannounced length.
    var hasTransferCoding = false
    /// `Transfer-Encoding` is anything but one `chunked` over all its lines. The body is forwarded dechunked and
    /// libcurl chunks it afresh, so any other coding (`gzip, chunked`) would reach the upstream undeclared.
    var hasUnsupportedTransferCoding = false
    /// `Expect: 100-continue`.
    var expectsContinue = false
    /// `Connection` lists `upgrade`, and the first `Upgrade` line: with both, NIO's parser treats the request as a
    /// protocol switch (as llhttp does) and reads nothing after its head.
    var connectionUpgrade = false
    var upgrade: String?
    /// The `traceparent` lines (W3C Trace Context): the first one and how many; the `tracestate` lines joined with
    /// commas, as one list (section 3.3.1.1).
    var traceparent: String?
    var traceparentCount = 0
    var tracestate: String?
    /// Name and value bytes of every line, plus 4 per line for `: ` and CRLF (the `max_header_bytes` measure).
    var byteCount = 0

    init(_ headers: HTTPHeaders) {
        var sawContentLength = false
        for (name, value) in headers {
            byteCount += name.utf8.count + value.utf8.count + 4
            switch name.utf8.count {
            case 4 where ASCIICase.equals(name, "host"):
                if hostCount == 0 { host = value }
                hostCount += 1
            case 6 where ASCIICase.equals(name, "expect"):
                if !expectsContinue { expectsContinue = FieldValueList.contains(value, "100-continue") }
            case 7 where ASCIICase.equals(name, "upgrade"):
                if upgrade == nil { upgrade = value }
            case 10 where ASCIICase.equals(name, "connection"):
                if !connectionUpgrade { connectionUpgrade = FieldValueList.contains(value, "upgrade") }
            case 10 where ASCIICase.equals(name, "tracestate"):
                tracestate = tracestate.map { "\($0),\(value)" } ?? value
            case 11 where ASCIICase.equals(name, "traceparent"):
                if traceparentCount == 0 { traceparent = value }
                traceparentCount += 1
            case 12 where ASCIICase.equals(name, "x-request-id"):
                if requestIDCount == 0 { requestID = value }
                requestIDCount += 1
            case 14 where ASCIICase.equals(name, "content-length"):
                if !sawContentLength {
                    sawContentLength = true
                    contentLength = FieldValueList.first(of: value).flatMap { Int($0) }
                }
            case 17 where ASCIICase.equals(name, "transfer-encoding"):
                FieldValueList.forEachElement(of: value) { coding in
                    if hasTransferCoding || !ASCIICase.equals(coding, "chunked") { hasUnsupportedTransferCoding = true }
                    hasTransferCoding = true
                    return true
                }
            default:
                break
            }
        }
    }

    /// A protocol switch was asked for: the connection ends with this request, whatever the answer.
    var isUpgrade: Bool { connectionUpgrade && upgrade != nil }

    /// The switch asked for is to WebSocket (RFC 6455 section 4.1).
    var isWebSocketUpgrade: Bool { isUpgrade && FieldValueList.contains(upgrade ?? "", "websocket") }

    /// Whether the request carries a body: a transfer coding, or a length above zero.
    var hasBody: Bool { hasTransferCoding || (contentLength ?? 0) > 0 }
}
