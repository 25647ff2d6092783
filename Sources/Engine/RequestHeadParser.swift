import CLLHTTP

/// llhttp (our `CLLHTTP` copy) recording a request head as `ByteSpan`s into the caller's buffer. One per connection.
///
/// The parser pauses at the end of each request (`on_message_complete` returns `GW_HPE_PAUSED`) and at the head of one
/// that has a body, so the caller answers requests one at a time and resumes it for the next (pipelining). A body is
/// then taken with `parseBody`: llhttp removes the chunk framing, and each piece of content is moved down in the
/// caller's buffer to follow the previous one, so the body waits there contiguous, never copied elsewhere.
final class RequestHeadParser {
    enum Outcome: Equatable {
        /// Everything given was consumed; the head is not complete yet.
        case needMore
        /// A whole request (or the head of one with a body) ends `consumed` bytes after the start given.
        case request(consumed: Int)
        case invalid
    }

    enum BodyOutcome: Equatable {
        /// Everything given was consumed; the body goes on.
        case needMore
        /// The body (and with it the request) ends `consumed` bytes after the start given.
        case ended(consumed: Int)
        case invalid
    }

    private let parser: UnsafeMutablePointer<gw_llhttp_t>
    private let settings: UnsafeMutablePointer<gw_llhttp_settings_t>
    private(set) var head = RequestHead()
    /// The buffer the spans are offsets into, set for the duration of `parse`.
    private var base: UnsafePointer<CChar>?
    /// Inside a field name: a second `on_header_field` extends it rather than starting a field.
    private var inName = false
    private var paused = false
    /// Between a head and the end of its message: field callbacks are a chunked body's trailers, not the head's.
    private var inBody = false
    /// Where the next piece of body content goes in `base` (`parseBody`).
    private var bodyEnd = 0

    init() {
        parser = .allocate(capacity: 1)
        settings = .allocate(capacity: 1)
        gw_llhttp_settings_init(settings)
        settings.pointee.on_message_begin = { parser in
            RequestHeadParser.with(parser) { $0.messageBegan() }
            return 0
        }
        settings.pointee.on_url = { parser, at, length in
            RequestHeadParser.with(parser) { $0.targetPiece(at, length) }
            return 0
        }
        settings.pointee.on_header_field = { parser, at, length in
            RequestHeadParser.with(parser) { $0.headerField(at, length) }
            return 0
        }
        settings.pointee.on_header_field_complete = { parser in
            RequestHeadParser.with(parser) { $0.inName = false }
            return 0
        }
        settings.pointee.on_header_value = { parser, at, length in
            RequestHeadParser.with(parser) { $0.headerValue(at, length) }
            return 0
        }
        settings.pointee.on_headers_complete = { parser in
            // A body is not carried by this slice: stop at its head, the caller answers and closes.
            RequestHeadParser.with(parser) { $0.headersComplete() } ? Int32(GW_HPE_PAUSED.rawValue) : 0
        }
        settings.pointee.on_body = { parser, at, length in
            RequestHeadParser.with(parser) { $0.bodyPiece(at, length) }
            return 0
        }
        settings.pointee.on_message_complete = { parser in
            RequestHeadParser.with(parser) { $0.inBody = false }
            return Int32(GW_HPE_PAUSED.rawValue)
        }
        gw_llhttp_init(parser, GW_HTTP_REQUEST, settings)
        parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        parser.deallocate()
        settings.deallocate()
    }

    /// Parses `count` bytes at `buffer + offset`; spans are recorded relative to `buffer`.
    func parse(_ buffer: UnsafeRawPointer, from offset: Int, count: Int) -> Outcome {
        if paused {
            gw_llhttp_resume(parser)
            paused = false
        }
        let base = buffer.assumingMemoryBound(to: CChar.self)
        self.base = base
        defer { self.base = nil }
        let code = gw_llhttp_execute(parser, base + offset, count)
        switch code {
        case GW_HPE_OK:
            return .needMore
        case GW_HPE_PAUSED, GW_HPE_PAUSED_UPGRADE:
            paused = true
            guard let position = gw_llhttp_get_error_pos(parser) else { return .invalid }
            return .request(consumed: base.distance(to: position) - offset)
        default:
            return .invalid
        }
    }

    /// Parses `count` bytes of body at `buffer + offset` (the head was returned by `parse`); the content is moved to
    /// `buffer + bodyEnd` on, and `bodyEnd` is advanced past it. The content never moves up: it is at most as long as
    /// the bytes it came in, so `bodyEnd` stays at or below where the parser reads.
    func parseBody(_ buffer: UnsafeMutableRawPointer, from offset: Int, count: Int, bodyEnd: inout Int) -> BodyOutcome {
        self.bodyEnd = bodyEnd
        defer { bodyEnd = self.bodyEnd }
        switch parse(buffer, from: offset, count: count) {
        case .needMore: return .needMore
        case .request(let consumed): return .ended(consumed: consumed)
        case .invalid: return .invalid
        }
    }

    /// Borrows the parser's owner in a callback (no retain and release per callback, a dozen per request): it is
    /// alive, since it is the one running `gw_llhttp_execute`.
    private static func with<Result>(
        _ parser: UnsafeMutablePointer<gw_llhttp_t>?, _ body: (RequestHeadParser) -> Result
    ) -> Result {
        Unmanaged<RequestHeadParser>.fromOpaque(parser!.pointee.data)._withUnsafeGuaranteedRef(body)
    }

    private func messageBegan() {
        head.reset()
        inName = false
        inBody = false
    }

    private func bodyPiece(_ at: UnsafePointer<CChar>?, _ length: Int) {
        guard let base, let at else { return }
        let from = base.distance(to: at)
        let target = UnsafeMutableRawPointer(mutating: base) + bodyEnd
        if from != bodyEnd { target.copyMemory(from: at, byteCount: length) }
        bodyEnd += length
    }

    private func offset(_ at: UnsafePointer<CChar>?) -> Int { base!.distance(to: at!) }

    /// A callback may come in pieces when a head spans two reads; the pieces are adjacent in the buffer.
    private func targetPiece(_ at: UnsafePointer<CChar>?, _ length: Int) {
        if head.target.count == 0 {
            head.target = ByteSpan(start: offset(at), count: length)
        } else {
            head.target.count += length
        }
    }

    private func headerField(_ at: UnsafePointer<CChar>?, _ length: Int) {
        // Trailer fields of a chunked body are dropped: libcurl frames the upstream's body itself.
        if inBody { return }
        if !inName {
            head.fields.append(.init(name: ByteSpan(start: offset(at), count: length), value: .empty))
            inName = true
        } else {
            head.fields[head.fields.count - 1].name.count += length
        }
    }

    private func headerValue(_ at: UnsafePointer<CChar>?, _ length: Int) {
        if inBody { return }
        let index = head.fields.count - 1
        if head.fields[index].value.count == 0 {
            head.fields[index].value = ByteSpan(start: offset(at), count: length)
        } else {
            head.fields[index].value.count += length
        }
    }

    /// Returns whether the request has a body.
    private func headersComplete() -> Bool {
        let state = parser.pointee
        head.versionMajor = Int(state.http_major)
        head.versionMinor = Int(state.http_minor)
        head.keepAlive = gw_llhttp_should_keep_alive(parser) != 0
        head.method = Self.methodName(state.method)
        // llhttp's upgrade: `Connection: upgrade` with an `Upgrade` field (RFC 9110 section 7.8), or CONNECT.
        head.isUpgrade = state.upgrade != 0
        let chunked = state.flags & UInt16(GW_F_CHUNKED.rawValue) != 0
        head.hasBody = chunked || (state.flags & UInt16(GW_F_CONTENT_LENGTH.rawValue) != 0 && state.content_length > 0)
        head.bodyLength = chunked ? nil : Int(clamping: state.content_length)
        if let base {
            for index in head.fields.indices {
                head.fields[index].value = head.fields[index].value.trimmingTrailingWhitespace(in: base)
            }
            if head.hasBody || state.flags & UInt16(GW_F_TRANSFER_ENCODING.rawValue) != 0 {
                inspectBodyFields(in: base)
            }
        }
        inBody = head.hasBody
        return head.hasBody
    }

    /// For a request with a body only (a bodiless GET pays nothing): `Expect: 100-continue`, and a `Transfer-Encoding`
    /// other than one `chunked` (llhttp takes `gzip, chunked` as chunked, but the gzip coding would be lost).
    private func inspectBodyFields(in base: UnsafePointer<CChar>) {
        let buffer = UnsafeRawPointer(base)
        var codings = 0
        for field in head.fields {
            let name = field.name.bytes(in: buffer)
            let value = field.value.bytes(in: buffer)
            if name.count == 6 && ConnectionNames.equalsLowercased(name, "expect") {
                // RFC 9110 section 10.1.1: Expect is a list, and the expectation's value is case-insensitive.
                if ConnectionNames.listContains(value, "100-continue") { head.expectsContinue = true }
            } else if name.count == 17 && ConnectionNames.equalsLowercased(name, "transfer-encoding") {
                codings += 1
                if !ConnectionNames.equalsLowercased(value, "chunked") { head.transferCodingRefused = true }
            }
        }
        if codings > 1 { head.transferCodingRefused = true }
        head.hasTransferEncoding = codings > 0
    }

    private static func methodName(_ method: UInt8) -> String {
        switch UInt32(method) {
        case GW_HTTP_GET.rawValue: return "GET"
        case GW_HTTP_HEAD.rawValue: return "HEAD"
        case GW_HTTP_POST.rawValue: return "POST"
        case GW_HTTP_PUT.rawValue: return "PUT"
        case GW_HTTP_DELETE.rawValue: return "DELETE"
        case GW_HTTP_OPTIONS.rawValue: return "OPTIONS"
        case GW_HTTP_PATCH.rawValue: return "PATCH"
        default: return String(cString: gw_llhttp_method_name(gw_llhttp_method_t(UInt32(method))))
        }
    }
}
