import CurlHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// The gateway's per-connection handler: it takes parsed requests and runs each through the pipeline of
/// DESIGN.md section 2, calling each phase in order from here and nowhere else:
/// match route → authenticate → rewrite headers → pick upstream → forward (CurlHTTP) → stream the
/// response → access log. Bodies stream in both directions with back-pressure; nothing is buffered whole.
///
/// Requests on one connection are answered one at a time (`RequestSequencer` holds a pipelined request back until
/// the answer before it has ended), so one `state` describes the connection.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = IOData
    /// Response bytes: the gateway writes heads itself (`ResponseHeadWriter`), with no response encoder below it.
    typealias OutboundOut = IOData

    enum State {
        /// Between requests.
        case idle
        /// Forwarding to an upstream.
        case proxying(UpstreamExchange)
        /// Reading a control-plane request's body, then waiting for its answer.
        case control(ControlExchange)
        /// Answered locally; the rest of this request's body is read and dropped, then the connection closes.
        case discarding
    }

    /// A control-plane request being collected.
    struct ControlExchange {
        /// The snapshot's endpoints: a reload while the body is read does not switch them under the request.
        var endpoints: any ControlEndpoints
        var request: ControlRequest
        var log: AccessLogEntry
        var startedAt: NIODeadline
        var keepAlive: Bool
        var version: HTTPVersion
        var complete = false
    }

    private let holder: RuntimeHolder
    /// The configuration snapshot of the request in progress (or the last one): read from `holder` once per
    /// request, at its head, so a request keeps the snapshot it started with and the hot path takes the
    /// holder's lock once, not at every body chunk and timer.
    private var runtime: GatewayRuntime
    private let curl: CurlClient
    private let scheme: String
    private let accessLogger: AccessLogger

    private var context: ChannelHandlerContext?
    private var peerAddress: String?
    private var state = State.idle
    /// Pipelined requests wait here for their turn.
    private var sequencer = RequestSequencer()
    private var handingOverHeld = false
    /// Request-body back-pressure: reads are held while the upstream's queue is full.
    private var readsHeld = false
    private var readPending = false
    /// When the armed client-side timeout fires, checked by the loop's `ConnectionDeadlines`; nil when none.
    private(set) var deadline: NIODeadline?
    /// What `deadline` is counting: the client-side deadline of a request runs from its first byte.
    private var timerKind = TimerKind.none
    enum TimerKind { case none, idle, client }
    /// This handler's place in `deadlines` (-1 when not registered).
    var deadlineSlot = -1
    private let deadlines: ConnectionDeadlines
    /// Set at shutdown: the current request is finished, then the connection closes.
    private var draining = false

    /// Upstream events for this connection's event loop arrive through here, in batches.
    private let inbox: UpstreamEventInbox
    /// Response bytes written but not flushed yet; the inbox flushes once per batch.
    var needsFlush = false
    var flushQueued = false

    init(
        holder: RuntimeHolder, curl: CurlClient, scheme: String, accessLogger: AccessLogger, inbox: UpstreamEventInbox,
        deadlines: ConnectionDeadlines
    ) {
        self.inbox = inbox
        self.deadlines = deadlines
        self.holder = holder
        self.runtime = holder.current
        self.curl = curl
        self.scheme = scheme
        self.accessLogger = accessLogger
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peerAddress = context.channel.remoteAddress?.ipAddress
        deadlines.register(self)
        if context.channel.isActive { armIdleTimer() }
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer()
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        deadlines.unregister(self)
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        deadlines.unregister(self)
        switch state {
        case .proxying(let exchange):
            // The client went away: stop the upstream transfer now (its handle is recycled at once).
            exchange.transfer?.cancel()
            if exchange.responseStarted {
                // A client that read a whole answer may close before libcurl has reported the transfer's end (a
                // moment after the last body bytes): whether it got everything is known from that report.
                exchange.clientGone = true
            } else {
                var entry = exchange.log
                entry.status = 499
                entry.error = entry.error ?? "client_closed"
                finishLog(&entry, startedAt: exchange.startedAt)
            }
        case .control(var control) where !control.complete:
            control.log.status = 499
            control.log.error = "client_closed"
            finishLog(&control.log, startedAt: control.startedAt)
        default:
            break
        }
        state = .idle
        sequencer.reset()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let event = sequencer.receive(.part(unwrapInboundIn(data))) { handle(event) }
    }

    private func handle(_ event: RequestSequencer.Event) {
        switch event {
        case .part(.head(let head)): receiveHead(head)
        case .part(.body(let buffer)): receiveBody(buffer)
        case .part(.end): receiveEnd()
        case .malformed(let error): rejectMalformed(error)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .proxying(let exchange) = state, exchange.responsePaused {
            exchange.responsePaused = false
            exchange.transfer?.resumeResponse()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if readsHeld || sequencer.isHolding {
            readPending = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            draining = true
            if case .idle = state { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        // Answered in turn: the requests before the bad bytes get their answers first.
        let answer: GatewayError = parserError == .headerOverflow ? .headersTooLarge : .malformedRequest
        if let event = sequencer.receive(.malformed(answer)) { handle(event) }
    }

    /// Answers bytes NIO's parser rejects: 431 when the header block is over `max_header_bytes`, 400 for anything
    /// else, then closes (RFC 9112 section 2.2: after a framing error the rest of the stream cannot be trusted). An
    /// answer already under way is cut off instead: a second head cannot follow it.
    private func rejectMalformed(_ error: GatewayError) {
        guard let context else { return }
        // The sequencer hands a parse error over mid-request only when the bad bytes are in that request's own body:
        // then that request is what failed, answered (or cut off) and logged once as itself.
        switch state {
        case .proxying(let exchange):
            exchange.transfer?.cancel()
            exchange.keepAlive = false
            failExchange(exchange, with: error)
            context.close(promise: nil)
            return
        case .control(let control) where !control.complete:
            answerLocally(error, version: control.version, isHeadRequest: control.request.method == .HEAD,
                keepAlive: false, log: control.log, startedAt: control.startedAt, hasBody: false)
            return
        case .discarding:
            // Already answered and logged; the connection is closing.
            context.close(promise: nil)
            return
        case .control, .idle:
            break
        }
        var entry = AccessLogEntry(time: Date(), requestID: "-", clientAddress: peerAddress, method: "-", path: "-")
        entry.status = Int(error.status.code)
        entry.error = error.code
        accessLogger.record(entry)
        let body = error.jsonBody(requestID: "-")
        var head = ResponseHeadWriter(
            version: .http1_1, status: Int(error.status.code), allocator: context.channel.allocator)
        head.add(name: "Content-Type", value: "application/json; charset=utf-8")
        head.add(name: "Content-Length", value: String(body.utf8.count))
        head.add(name: "Connection", value: "close")
        writeAnswer(&head, body: body, isHeadRequest: false)
        context.close(promise: nil)
    }

    // MARK: Inbound request

    private func receiveHead(_ head: HTTPRequestHead) {
        guard let context else { return }
        runtime = holder.current
        let runtime = self.runtime
        let config = runtime.config
        let startedAt = NIODeadline.now()
        let fields = RequestHeadFields(head.headers)
        // Whole lines: one X-Request-Id is passed through; none, several or an odd one gets a fresh id.
        let requestID = (fields.requestIDCount == 1 ? fields.requestID.flatMap { RequestID.accept($0[...]) } : nil)
            ?? RequestID.generate()
        let target = RequestTarget(head.uri)
        var log = AccessLogEntry(
            time: Date(), requestID: requestID, clientAddress: peerAddress, method: head.method.rawValue,
            path: target?.path ?? Substring(head.uri.prefix(while: { $0 != "?" })))
        let hasBody = fields.hasBody
        if timerKind != .client { armClientTimer(config.server.clientTimeout) }

        // RFC 9112 section 3.2: an HTTP/1.1 request carries exactly one Host. Without it, or with two,
        // route matching and the upstream could disagree about which host was meant.
        if head.version.major == 1 && head.version.minor >= 1 && fields.hostCount != 1 {
            return answerLocally(.malformedRequest, head: head, log: log, startedAt: startedAt, hasBody: hasBody)
        }
        if let host = fields.host, !HostField.isValid(host) {
            return answerLocally(.malformedRequest, head: head, log: log, startedAt: startedAt, hasBody: hasBody)
        }
        // RFC 9112 section 6.1: an HTTP/1.0 message with a Transfer-Encoding has faulty framing (an HTTP/1.0
        // hop before us could not have known chunking), 400 as nginx answers; a coding we do not implement is a 501.
        if fields.hasTransferCoding && head.version.major == 1 && head.version.minor == 0 {
            return answerLocally(.malformedRequest, head: head, log: log, startedAt: startedAt, hasBody: hasBody)
        }
        if fields.hasUnsupportedTransferCoding {
            return answerLocally(.unsupportedTransferCoding, head: head, log: log, startedAt: startedAt, hasBody: hasBody)
        }

        // Limits first: nothing else is worth doing for a request we will not take.
        if head.uri.utf8.count + fields.byteCount > config.server.maxHeaderBytes {
            return answerLocally(.headersTooLarge, head: head, log: log, startedAt: startedAt, hasBody: hasBody)
        }
        if let length = fields.contentLength, length > config.server.maxBodyBytes.bytes {
            return answerLocally(.bodyTooLarge, head: head, log: log, startedAt: startedAt, hasBody: hasBody)
        }
        guard let target else {
            return answerLocally(.badRequestTarget, head: head, log: log, startedAt: startedAt, hasBody: hasBody)
        }

        if let control = runtime.control, control.handles(path: target.path) {
            log.route = "control"
            let request = ControlRequest(
                method: head.method, path: target.path, query: target.query, headers: head.headers,
                body: context.channel.allocator.buffer(capacity: 0), peerAddress: peerAddress, requestID: requestID)
            state = .control(ControlExchange(
                endpoints: control, request: request, log: log, startedAt: startedAt, keepAlive: head.isKeepAlive, version: head.version))
            return
        }

        // match route
        let host = runtime.routes.matchesHosts ? Self.hostWithoutPort(fields.host?[...]) : nil
        guard let route = runtime.routes.match(method: head.method.rawValue, path: target.path, host: host) else {
            return answerLocally(.routeNotFound, head: head, log: log, startedAt: startedAt, hasBody: hasBody)
        }
        log.route = route.prefix

        // authenticate
        let identity: Identity?
        switch runtime.authenticator.authenticate(head.headers, mode: route.auth, now: Date()) {
        case .anonymous:
            identity = nil
        case .authenticated(let caller):
            identity = caller
            log.openid = caller.openid
        case .rejected(let rejection):
            return answerLocally(.authentication(rejection), head: head, log: log, startedAt: startedAt, hasBody: hasBody,
                realm: runtime.realm)
        }

        // rewrite headers
        let forwarding = ForwardingContext(peerAddress: peerAddress, scheme: scheme, requestID: requestID)
        let headers = runtime.rewriter.upstreamHeaders(
            for: head.headers, identity: identity, forwardAuthorization: route.forwardAuthorization, context: forwarding)

        // pick upstream
        let pool = runtime.pools[route.index]
        guard let upstreamIndex = pool.pick() else {
            return answerLocally(.upstreamUnreachable, head: head, log: log, startedAt: startedAt, hasBody: hasBody)
        }

        // forward
        let path = route.stripPrefix ? target.strippingPrefix(route.prefix) : target.path
        let upstream = pool.upstreams[upstreamIndex]
        var body = CurlRequestBody.none
        if hasBody {
            body = .streamed(length: fields.contentLength)
        } else if head.method == .POST || head.method == .PUT || head.method == .PATCH {
            // An explicit empty body, so the upstream sees Content-Length: 0 rather than a bodiless POST.
            body = .bytes(context.channel.allocator.buffer(capacity: 0))
        }
        // Path (after strip_prefix) and query exactly as received; kept for a retry on another upstream.
        let curlRequest = CurlRequest(
            method: head.method.rawValue,
            url: upstream.url(forPath: path, query: target.query),
            unixSocketPath: upstream.unixSocketPath,
            headers: headers,
            body: body,
            connectTimeoutMilliseconds: Int(route.connectTimeout.milliseconds),
            timeoutMilliseconds: Int(route.timeout.milliseconds),
            caFile: route.caFile,
            insecureSkipVerify: route.insecureSkipVerify)
        let exchange = UpstreamExchange(
            inbox: inbox, handler: self, route: route, pool: pool, upstreamIndex: upstreamIndex,
            curlRequest: curlRequest, forwardedPath: path, forwardedQuery: target.query, hasBody: hasBody, log: log, startedAt: startedAt, keepAlive: head.isKeepAlive,
            requestVersion: head.version)
        state = .proxying(exchange)
        if fields.expectsContinue && (head.version.major > 1 || head.version.minor >= 1) {
            // We stream the body, so we want it now (RFC 9110 section 10.1.1); libcurl is told not to ask. An HTTP/1.0
            // client's expectation is ignored, as that section requires: it could not read an interim answer.
            let interim = ResponseHeadWriter.interim(version: head.version, status: 100, allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(interim)), promise: nil)
        }
        exchange.transfer = curl.execute(curlRequest, delegate: exchange, affinity: inbox.index)
    }

    private func receiveBody(_ buffer: ByteBuffer) {
        switch state {
        case .proxying(let exchange):
            guard case .streaming = exchange.requestBody, let transfer = exchange.transfer else { return }
            exchange.log.bytesIn += buffer.readableBytes
            if exchange.log.bytesIn > runtime.config.server.maxBodyBytes.bytes {
                // Checked while streaming (chunked bodies announce no length): stop the upstream transfer.
                // The body stays "streaming", so the connection is closed after the answer.
                transfer.cancel()
                return failExchange(exchange, with: .bodyTooLarge)
            }
            if !transfer.writeBody(buffer) {
                readsHeld = true
            }
        case .control(var control):
            control.log.bytesIn += buffer.readableBytes
            guard control.log.bytesIn <= min(ControlRequest.maximumBodyBytes, runtime.config.server.maxBodyBytes.bytes)
            else {
                state = .idle
                return answerLocally(.bodyTooLarge, version: control.version, isHeadRequest: control.request.method == .HEAD,
                    keepAlive: false, log: control.log,
                    startedAt: control.startedAt, hasBody: true)
            }
            var body = buffer
            control.request.body.writeBuffer(&body)
            state = .control(control)
        case .idle, .discarding:
            break
        }
    }

    private func receiveEnd() {
        // The request is read. An idle timer stays: a local answer may have ended before the request did.
        if timerKind == .client { cancelTimer() }
        switch state {
        case .proxying(let exchange):
            if case .streaming = exchange.requestBody {
                exchange.requestBody = .complete
                exchange.transfer?.finishBody()
            }
        case .control(var control):
            control.complete = true
            state = .control(control)
            startControl(control)
        case .discarding:
            state = .idle
            context?.close(promise: nil)
        case .idle:
            break
        }
    }

    // MARK: Upstream events (already on the event loop)

    func exchange(_ exchange: UpstreamExchange, transfer: CurlTransfer, didReceiveHead head: CurlResponseHead) {
        guard let context, case .proxying(let current) = state, current === exchange, current.transfer === transfer
        else { return }
        exchange.pool.recordSuccess(exchange.upstreamIndex)
        var writer = ResponseHeadWriter(
            version: exchange.requestVersion, status: head.status, allocator: context.channel.allocator)
        let isHeadRequest = exchange.curlRequest.method == "HEAD"
        guard
            let (framing, closes) = HeaderRewriter.writeClientHead(
                status: head.status, fields: head.headers, requestID: exchange.log.requestID,
                version: exchange.requestVersion, keepAlive: exchange.keepAlive && !draining,
                isHeadRequest: isHeadRequest, into: &writer)
        else {
            transfer.cancel()
            exchange.log.status = head.status
            exchange.log.error = "upstream_broken: invalid response header"
            return failExchange(exchange, with: .upstreamBroken)
        }
        exchange.responseStarted = true
        exchange.log.status = head.status
        exchange.framing = framing
        exchange.sendsBody = !isHeadRequest && framing != .noBody
        if closes { exchange.keepAlive = false }
        // Flushed with whatever else this batch of upstream events writes (see UpstreamEventInbox),
        // so head, body and end of a small response leave in one write.
        context.write(wrapOutboundOut(.byteBuffer(writer.finish())), promise: nil)
        needsFlush = true
    }

    func exchange(_ exchange: UpstreamExchange, transfer: CurlTransfer, didReceiveBodyPart part: ByteBuffer) {
        guard let context, case .proxying(let current) = state, current === exchange, current.transfer === transfer
        else { return }
        guard exchange.sendsBody, part.readableBytes > 0 else { return }
        // Counted as sent, as nginx's $body_bytes_sent: nothing for the answer to HEAD.
        exchange.log.bytesOut += part.readableBytes
        if exchange.framing == .chunked {
            // An empty chunk would end the body, hence the guard above.
            var size = context.channel.allocator.buffer(capacity: 18)
            size.writeString(String(part.readableBytes, radix: 16))
            size.writeStaticString("\r\n")
            context.write(wrapOutboundOut(.byteBuffer(size)), promise: nil)
            context.write(wrapOutboundOut(.byteBuffer(part)), promise: nil)
            context.write(wrapOutboundOut(.byteBuffer(Self.crlf)), promise: nil)
        } else {
            context.write(wrapOutboundOut(.byteBuffer(part)), promise: nil)
        }
        needsFlush = true
        if !context.channel.isWritable, !exchange.responsePaused {
            // A slow client: stop reading from the upstream until the socket drains.
            exchange.responsePaused = true
            transfer.pauseResponse()
        }
    }

    func exchangeCanAcceptMoreBody(_ exchange: UpstreamExchange, transfer: CurlTransfer) {
        guard case .proxying(let current) = state, current === exchange else { return }
        releaseReads()
    }

    func exchange(
        _ exchange: UpstreamExchange, transfer: CurlTransfer, didFinishWith error: CurlError?, info: CurlTransferInfo
    ) {
        if exchange.clientGone {
            return logAfterClientClosed(exchange, transfer: transfer, error: error, info: info)
        }
        guard let context, case .proxying(let current) = state, current === exchange, current.transfer === transfer
        else { return }
        exchange.log.upstream = exchange.upstream.description
        exchange.log.upstreamSeconds = info.totalSeconds
        guard let error else {
            state = .idle
            releaseReads()
            var entry = exchange.log
            let requestComplete = !(exchange.requestBody == .streaming)
            if exchange.sendsBody && exchange.framing == .chunked {
                context.write(wrapOutboundOut(.byteBuffer(Self.lastChunk)), promise: nil)
                needsFlush = true
            }
            finishLog(&entry, startedAt: exchange.startedAt)
            if !exchange.keepAlive || !requestComplete || draining {
                // The upstream answered before the client finished sending: the rest of that body would be
                // read as the next request, so the connection ends here.
                flushIfNeeded()
                context.close(promise: nil)
            } else {
                responseEnded()
            }
            return
        }
        if case .couldNotConnect = error {
            exchange.pool.recordConnectFailure(exchange.upstreamIndex)
            if retry(exchange, info: info) { return }
        }
        if exchange.responseStarted {
            // Mid-body failure: the client must see a cut response, never one that looks complete.
            exchange.log.error = "upstream_broken: \(Self.describe(error))"
            var entry = exchange.log
            state = .idle
            finishLog(&entry, startedAt: exchange.startedAt)
            flushIfNeeded()
            context.close(promise: nil)
            return
        }
        exchange.log.error = Self.describe(error)
        failExchange(exchange, with: GatewayError(error))
    }

    /// The end of a transfer whose client closed after its answer had started: complete when the upstream's whole
    /// body had been written to the client before it closed, cut off (`client_closed`) otherwise.
    private func logAfterClientClosed(
        _ exchange: UpstreamExchange, transfer: CurlTransfer, error: CurlError?, info: CurlTransferInfo
    ) {
        guard exchange.transfer === transfer else { return }
        exchange.transfer = nil
        var entry = exchange.log
        entry.upstream = exchange.upstream.description
        entry.upstreamSeconds = info.totalSeconds
        if error != nil || entry.bytesOut != info.responseBodyBytes {
            entry.error = entry.error ?? "client_closed"
        }
        finishLog(&entry, startedAt: exchange.startedAt)
    }

    /// Idempotent requests without a body that never reached an upstream are tried once more elsewhere
    /// (DESIGN.md section 4).
    private func retry(_ exchange: UpstreamExchange, info: CurlTransferInfo) -> Bool {
        guard exchange.attempts == 1, !info.requestWasSent, exchange.requestBody == .none,
            Self.isIdempotent(exchange.curlRequest.method),
            let next = exchange.pool.pick(excluding: exchange.upstreamIndex)
        else { return false }
        exchange.attempts += 1
        exchange.upstreamIndex = next
        var request = exchange.curlRequest
        request.url = exchange.upstream.url(forPath: exchange.forwardedPath, query: exchange.forwardedQuery)
        request.unixSocketPath = exchange.upstream.unixSocketPath
        exchange.transfer = curl.execute(request, delegate: exchange, affinity: inbox.index)
        return true
    }

    private func failExchange(_ exchange: UpstreamExchange, with error: GatewayError) {
        if exchange.responseStarted {
            var entry = exchange.log
            entry.error = entry.error ?? error.code
            state = .idle
            finishLog(&entry, startedAt: exchange.startedAt)
            flushIfNeeded()
            context?.close(promise: nil)
            return
        }
        state = .idle
        releaseReads()
        let requestComplete = exchange.requestBody != .streaming
        answerLocally(error, version: exchange.requestVersion, isHeadRequest: exchange.curlRequest.method == "HEAD",
            keepAlive: exchange.keepAlive && requestComplete, log: exchange.log, startedAt: exchange.startedAt,
            hasBody: !requestComplete)
    }

    // MARK: Control plane

    private func startControl(_ control: ControlExchange) {
        guard let context else { return }
        let endpoints = control.endpoints
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let request = control.request
        Task {
            let response = await endpoints.respond(to: request)
            loop.execute { handler.value.finishControl(control, response: response) }
        }
    }

    private func finishControl(_ control: ControlExchange, response: ControlResponse) {
        guard let context, case .control = state else { return }
        state = .idle
        var headers = HTTPHeaders(response.headers)
        if response.status.mayHaveResponseBody {
            headers.replaceOrAdd(name: "Content-Length", value: String(response.body.utf8.count))
        }
        headers.replaceOrAdd(name: "X-Request-Id", value: control.request.requestID)
        var head = ResponseHeadWriter(
            version: control.version, status: Int(response.status.code), allocator: context.channel.allocator)
        head.add(headers)
        HeaderRewriter.writeConnectionField(closes: !control.keepAlive || draining, version: control.version, into: &head)
        let bodyBytesSent = writeAnswer(&head, body: response.status.mayHaveResponseBody ? response.body : "",
            isHeadRequest: control.request.method == .HEAD)
        var entry = control.log
        entry.status = Int(response.status.code)
        entry.bytesOut = bodyBytesSent
        entry.openid = response.openid
        finishLog(&entry, startedAt: control.startedAt)
        if control.keepAlive && !draining { responseEnded() } else { context.close(promise: nil) }
    }

    // MARK: Local answers

    private func answerLocally(
        _ error: GatewayError, head: HTTPRequestHead, log: AccessLogEntry, startedAt: NIODeadline, hasBody: Bool,
        realm: String = "gateway"
    ) {
        answerLocally(error, version: head.version, isHeadRequest: head.method == .HEAD,
            keepAlive: head.isKeepAlive && !hasBody && !error.closesConnection, log: log, startedAt: startedAt,
            hasBody: hasBody, realm: realm)
    }

    /// Sends the JSON error for `error`. A request whose body has not been read yet is not kept alive:
    /// its unread body would otherwise be parsed as the next request.
    private func answerLocally(
        _ error: GatewayError, version: HTTPVersion, isHeadRequest: Bool, keepAlive: Bool, log: AccessLogEntry,
        startedAt: NIODeadline, hasBody: Bool, realm: String = "gateway"
    ) {
        guard let context else { return }
        let body = error.jsonBody(requestID: log.requestID)
        var head = ResponseHeadWriter(version: version, status: Int(error.status.code), allocator: context.channel.allocator)
        head.add(name: "Content-Type", value: "application/json; charset=utf-8")
        head.add(name: "Content-Length", value: String(body.utf8.count))
        head.add(name: "X-Request-Id", value: log.requestID)
        for (name, value) in error.headers(realm: realm) { head.add(name: name, value: value) }
        HeaderRewriter.writeConnectionField(closes: !keepAlive || draining, version: version, into: &head)
        let bodyBytesSent = writeAnswer(&head, body: body, isHeadRequest: isHeadRequest)
        var entry = log
        entry.status = Int(error.status.code)
        entry.bytesOut = bodyBytesSent
        entry.error = entry.error ?? error.code
        finishLog(&entry, startedAt: startedAt)
        if keepAlive && !draining {
            state = .idle
            responseEnded()
        } else if hasBody {
            state = .discarding
            context.close(promise: nil)
        } else {
            state = .idle
            context.close(promise: nil)
        }
    }

    /// Writes and flushes an answer the gateway makes itself, head and body in one buffer. The answer to a HEAD request
    /// has the head only: it announces the length the body would have had (RFC 9110 section 9.3.2).
    /// Returns the body bytes sent, for the access log (0 for HEAD, as nginx's `$body_bytes_sent`).
    @discardableResult
    private func writeAnswer(_ head: inout ResponseHeadWriter, body: String, isHeadRequest: Bool) -> Int {
        guard let context else { return 0 }
        // RFC 9110 section 6.6.1: an origin server with a clock dates its answers.
        head.add(name: "Date", value: HTTPDate.now())
        var bytes = head.finish()
        let sent = isHeadRequest ? 0 : bytes.writeString(body)
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes)), promise: nil)
        return sent
    }

    /// Called by the inbox after a batch: one flush (one writev) for everything written to this connection.
    func flushIfNeeded() {
        flushQueued = false
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    private func finishLog(_ entry: inout AccessLogEntry, startedAt: NIODeadline) {
        entry.durationSeconds = Double((NIODeadline.now() - startedAt).nanoseconds) / 1e9
        accessLogger.record(entry)
    }

    // MARK: Turns, timers and reads

    /// The answer to the current request has ended and the connection stays open: wait for the next request, or
    /// take the pipelined one that is already here.
    private func responseEnded() {
        sequencer.responseEnded()
        armIdleTimer()
        // Handing a held request over can end its answer at once (a local answer), which lands here again: the
        // outer loop goes on with the next one.
        guard !handingOverHeld else { return }
        handingOverHeld = true
        while let event = sequencer.next() { handle(event) }
        handingOverHeld = false
        resumeReads()
    }

    private func releaseReads() {
        guard readsHeld else { return }
        readsHeld = false
        resumeReads()
    }

    /// Asks for the read held back, once neither the upload's back-pressure nor a pipelined request holds reads.
    private func resumeReads() {
        guard !readsHeld, !sequencer.isHolding, readPending, let context else { return }
        readPending = false
        context.read()
    }

    /// Between requests: a keep-alive connection with nothing to do is closed after `idle_timeout`.
    /// This also bounds a client that trickles a request's header block.
    private func armIdleTimer() {
        timerKind = .idle
        deadline = .now() + .nanoseconds(Int64(runtime.config.server.idleTimeout.milliseconds) * 1_000_000)
    }

    /// While reading a request (head to end): a slower client is cut off after `client_timeout`.
    private func armClientTimer(_ timeout: Duration) {
        timerKind = .client
        deadline = .now() + .nanoseconds(Int64(timeout.milliseconds) * 1_000_000)
    }

    private func cancelTimer() {
        timerKind = .none
        deadline = nil
    }

    /// Called by `ConnectionDeadlines` once `deadline` has passed.
    func deadlineExpired() {
        let kind = timerKind
        cancelTimer()
        switch kind {
        case .idle:
            if case .idle = state { context?.close(promise: nil) }
        case .client:
            clientTimedOut()
        case .none:
            break
        }
    }

    /// The first bytes of a request arrived (seen by `RequestStartDetector` before parsing): from now on
    /// the client has `client_timeout` to deliver the whole request, header block included.
    func requestBytesArrived() {
        if timerKind == .idle, case .idle = state {
            armClientTimer(runtime.config.server.clientTimeout)
        }
    }

    /// Whether the detector needs to report arriving bytes (only between requests).
    var isAwaitingRequest: Bool { timerKind == .idle }

    private func clientTimedOut() {
        timerKind = .none
        switch state {
        case .proxying(let exchange):
            exchange.transfer?.cancel()
            exchange.log.error = "client_timeout"
            failExchange(exchange, with: .clientTimeout)
        case .control(let control) where !control.complete:
            state = .idle
            answerLocally(.clientTimeout, version: control.version, isHeadRequest: control.request.method == .HEAD,
                keepAlive: false, log: control.log,
                startedAt: control.startedAt, hasBody: true)
        default:
            context?.close(promise: nil)
        }
    }

    // MARK: Helpers

    /// The end of a chunk, and the last chunk of a chunked body (no trailers: libcurl does not pass them on).
    private static let crlf = ByteBuffer(string: "\r\n")
    private static let lastChunk = ByteBuffer(string: "0\r\n\r\n")

    static func hostWithoutPort(_ host: Substring?) -> Substring? {
        guard let host else { return nil }
        let lower = host.lowercased()
        if lower.hasPrefix("[") { return Substring(lower.prefix(through: lower.firstIndex(of: "]") ?? lower.endIndex)) }
        if let colon = lower.lastIndex(of: ":") { return Substring(lower[..<colon]) }
        return Substring(lower)
    }

    static func isIdempotent(_ method: String) -> Bool {
        ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"].contains(method)
    }

    static func describe(_ error: CurlError) -> String {
        switch error {
        case .couldNotConnect(let detail): return "upstream_unreachable: \(detail)"
        case .timedOut(let detail): return "upstream_timeout: \(detail)"
        case .brokenResponse(let detail): return "upstream_broken: \(detail)"
        case .cancelled: return "cancelled"
        case .requestBodyFailed(let detail): return "request_body_failed: \(detail)"
        case .other(let code, let detail): return "curl_\(code): \(detail)"
        }
    }
}

extension UpstreamExchange.RequestBody: Equatable {}
