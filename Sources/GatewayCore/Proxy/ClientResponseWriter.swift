import CurlHTTP
import NIOCore
import NIOHTTP1
import SmallHTTP

/// Writes answers to the client: the upstream's head and body (with chunk framing where needed), and the
/// gateway's own answers (errors, control-plane JSON). Response bytes are written directly, with no
/// `HTTPResponseEncoder` below (docs/performance.md). Methods that relay the upstream's answer write
/// without flushing: `UpstreamEventInbox` flushes once per batch. Local answers are flushed at once.
struct ClientResponseWriter {
    let context: ChannelHandlerContext

    private func write(_ buffer: ByteBuffer) {
        context.write(NIOAny(IOData.byteBuffer(buffer)), promise: nil)
    }

    /// `100 Continue`, flushed: the client waits for it before sending the body.
    func writeContinue(version: HTTPVersion) {
        let interim = ResponseHeadWriter.interim(version: version, status: 100, allocator: context.channel.allocator)
        context.writeAndFlush(NIOAny(IOData.byteBuffer(interim)), promise: nil)
    }

    /// The upstream's head, checked and rewritten (`HeaderRewriter.writeClientHead`); nil when a field
    /// cannot be passed on (then nothing was written and the answer becomes a 502). With CORS on, the upstream's
    /// `Access-Control-*` fields give way to the gateway's (`CorsPolicy`).
    func writeUpstreamHead(
        _ head: CurlResponseHead, requestID: String, version: HTTPVersion, keepAlive: Bool, isHeadRequest: Bool,
        cors: CorsPolicy.AnswerFields = .none
    ) -> (framing: ResponseFraming, closesConnection: Bool)? {
        var writer = ResponseHeadWriter(version: version, status: head.status, allocator: context.channel.allocator)
        var fields = head.headers
        if cors.isActive, fields.contains(where: { CorsPolicy.ownsField($0.name) }) {
            fields.removeAll { CorsPolicy.ownsField($0.name) }
        }
        guard
            let result = HeaderRewriter.writeClientHead(
                status: head.status, fields: fields, requestID: requestID, version: version,
                keepAlive: keepAlive, isHeadRequest: isHeadRequest, into: &writer)
        else { return nil }
        for field in cors.lines(after: fields) { writer.add(name: field.name, value: field.value) }
        write(writer.finish())
        return result
    }

    /// The upstream's `101` (`HeaderRewriter.writeSwitchingHead`), not flushed; false (nothing written) when it
    /// cannot be passed on.
    func writeSwitchingHead(_ head: CurlResponseHead, requestID: String) -> Bool {
        var writer = ResponseHeadWriter(version: .http1_1, status: 101, allocator: context.channel.allocator)
        guard HeaderRewriter.writeSwitchingHead(fields: head.headers, requestID: requestID, into: &writer) else {
            return false
        }
        write(writer.finish())
        return true
    }

    /// One part of the upstream's body; `part` must not be empty (an empty chunk would end a chunked body).
    func writeBodyPart(_ part: ByteBuffer, framing: ResponseFraming) {
        if framing == .chunked {
            var size = context.channel.allocator.buffer(capacity: 18)
            size.writeString(String(part.readableBytes, radix: 16))
            size.writeStaticString("\r\n")
            write(size)
            write(part)
            write(Self.crlf)
        } else {
            write(part)
        }
    }

    /// The end of the upstream's body: the last chunk when chunked (no trailers: libcurl does not pass them on).
    func writeEnd(framing: ResponseFraming) {
        if framing == .chunked { write(Self.lastChunk) }
    }

    /// The JSON error for `error`. `requestID` nil: the request could not be parsed, so it has none.
    /// Returns the body bytes sent (0 for HEAD, as nginx's `$body_bytes_sent`).
    @discardableResult
    func writeError(
        _ error: GatewayError, version: HTTPVersion, isHeadRequest: Bool, closes: Bool, requestID: String?,
        realm: String, cors: CorsPolicy.AnswerFields = .none
    ) -> Int {
        let body = error.jsonBody(requestID: requestID ?? "-")
        var head = ResponseHeadWriter(
            version: version, status: Int(error.status.code), allocator: context.channel.allocator)
        head.add(name: "Content-Type", value: "application/json; charset=utf-8")
        head.add(name: "Content-Length", value: String(body.utf8.count))
        if let requestID { head.add(name: "X-Request-Id", value: requestID) }
        for (name, value) in error.headers(realm: realm) { head.add(name: name, value: value) }
        for field in cors.lines(after: []) { head.add(name: field.name, value: field.value) }
        HeaderRewriter.writeConnectionField(closes: closes, version: version, into: &head)
        return writeAnswer(&head, body: body, isHeadRequest: isHeadRequest)
    }

    /// A control-plane answer. Returns the body bytes sent.
    func writeControlAnswer(
        _ response: ControlResponse, version: HTTPVersion, isHeadRequest: Bool, closes: Bool, requestID: String,
        cors: CorsPolicy.AnswerFields = .none
    ) -> Int {
        var headers = HTTPHeaders(response.headers)
        if response.status.mayHaveResponseBody {
            headers.replaceOrAdd(name: "Content-Length", value: String(response.body.utf8.count))
        }
        headers.replaceOrAdd(name: "X-Request-Id", value: requestID)
        var head = ResponseHeadWriter(
            version: version, status: Int(response.status.code), allocator: context.channel.allocator)
        head.add(headers)
        for field in cors.lines(after: response.headers.map { (name: $0.0, value: $0.1) }) {
            head.add(name: field.name, value: field.value)
        }
        HeaderRewriter.writeConnectionField(closes: closes, version: version, into: &head)
        return writeAnswer(
            &head, body: response.status.mayHaveResponseBody ? response.body : "", isHeadRequest: isHeadRequest)
    }

    /// The gateway's answer to a CORS preflight it accepted (`CorsPolicy`): 204 with the policy's fields. Returns the
    /// body bytes sent (none).
    func writePreflightAnswer(
        _ fields: [CorsPolicy.Field], version: HTTPVersion, closes: Bool, requestID: String
    ) -> Int {
        var head = ResponseHeadWriter(version: version, status: 204, allocator: context.channel.allocator)
        for field in fields { head.add(name: field.name, value: field.value) }
        head.add(name: "X-Request-Id", value: requestID)
        HeaderRewriter.writeConnectionField(closes: closes, version: version, into: &head)
        return writeAnswer(&head, body: "", isHeadRequest: false)
    }

    /// Head and body in one buffer, flushed. The answer to a HEAD request has the head only: it announces
    /// the length the body would have had (RFC 9110 section 9.3.2).
    private func writeAnswer(_ head: inout ResponseHeadWriter, body: String, isHeadRequest: Bool) -> Int {
        // RFC 9110 section 6.6.1: an origin server with a clock dates its answers.
        head.add(name: "Date", value: HTTPDate.now())
        var bytes = head.finish()
        let sent = isHeadRequest ? 0 : bytes.writeString(body)
        context.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
        return sent
    }

    private static let crlf = ByteBuffer(string: "\r\n")
    private static let lastChunk = ByteBuffer(string: "0\r\n\r\n")
}
