import CurlHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// The gateway's per-connection handler. It is thin: NIO events come in, and it performs what the
/// request's phases decide, in this order and from here only:
///
/// 1. head → `RequestPlanner.plan` (admission → route → authenticate → rewrite → pick upstream), pure;
/// 2. `.forward` → start the transfer (`UpstreamClient`), stream the body up with back-pressure;
/// 3. upstream events (`receive(_:for:from:)`) → `ClientResponseWriter` relays head and body, or answers
///    a failure; a connect failure of an idempotent request is retried once (`RequestPlanner.retry`);
/// 4. `finish(_:_:)`: the one exit, which writes the access-log line (and so the request metrics).
///
/// Every in-flight state holds the request's `RequestRecord`; whatever ends a request (its answer, an
/// error, a timeout, the client closing) moves the state on and calls `finish` with that record, so each
/// request is logged exactly once. Requests on one connection are answered one at a time
/// (`RequestSequencer` holds a pipelined request back until the answer before it has ended).
///
/// The phases live in `ProxyHandler+Upstream`, `+Tunnel`, `+Answers` and `+Timers`; its members are internal rather
/// than private only so those files can reach them. Nothing outside the handler's files touches them.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = IOData
    /// Response bytes: the gateway writes heads itself (`ClientResponseWriter`), with no response encoder below it.
    typealias OutboundOut = IOData

    /// Where the connection is; each case carries what is valid in it.
    enum State {
        /// Between requests.
        case idle
        /// Forwarding to an upstream.
        case proxying(UpstreamExchange)
        /// Reading a control-plane request's body.
        case collectingControl(ControlExchange)
        /// The control endpoints are working on the answer.
        case awaitingControl(ControlExchange)
        /// Answered before the request's body had all arrived: the gateway has stopped writing and reads and drops
        /// what the client still sends, within bounds, then closes (nginx's lingering close). Closing at once
        /// would make the kernel answer the unread bytes with a reset, and a client that writes its whole body
        /// before reading would see that reset instead of the answer.
        case lingering(bytesLeft: Int)
        /// The client closed while its answer was streaming: waiting for the transfer's final report to
        /// log whether it had received everything.
        case awaitingUpstreamReport(UpstreamExchange)
        /// A WebSocket upgrade went upstream: waiting for its answer (reads held). A 101 hands the connection over
        /// to `TunnelRelay`; anything else is answered here.
        case openingTunnel(TunnelSession)
    }

    /// A control-plane request being collected or answered.
    struct ControlExchange {
        /// The snapshot's endpoints: a reload while the body is read does not switch them under the request.
        var endpoints: any ControlEndpoints
        var request: ControlRequest
        var record: RequestRecord
        var keepAlive: Bool
        var version: HTTPVersion
    }

    /// The client-side timer: what it counts and when it fires.
    enum Timer {
        case none
        /// Between requests: a keep-alive connection with nothing to do closes after `idle_timeout`.
        case idle(NIODeadline)
        /// While a request is read (from its first byte): a slower client is cut off after `client_timeout`.
        case client(NIODeadline)
        /// Lingering: closed at `idle` (silence, renewed by every read) or at `end`, whichever comes first.
        case linger(idle: NIODeadline, end: NIODeadline)
    }

    /// What a lingering connection reads at the most before it closes anyway.
    static let lingeringByteLimit = 64 << 20

    let holder: RuntimeHolder
    /// The configuration snapshot of the request in progress (or the last one): read from `holder` once per
    /// request, at its head, so a request keeps the snapshot it started with and the hot path takes the
    /// holder's lock once, not at every body chunk and timer.
    var runtime: GatewayRuntime
    let upstreams: any UpstreamClient
    let scheme: String
    let accessLogger: AccessLogger
    let inbox: UpstreamEventInbox
    let deadlines: ConnectionDeadlines
    /// nil where tunnels are not offered (tests of the HTTP path): an upgrade on a websocket route is then a 500.
    let tunnels: TunnelServices?

    var context: ChannelHandlerContext?
    var writer: ClientResponseWriter?
    var peerAddress: String?
    var state = State.idle
    /// Pipelined requests wait here for their turn.
    var sequencer = RequestSequencer()
    var handingOverHeld = false
    /// Request-body back-pressure: reads are held while the upstream's queue is full.
    var readsHeld = false
    var readPending = false
    var timer = Timer.none
    /// Set at shutdown: the current request is finished, then the connection closes.
    var draining = false
    /// Response bytes written but not flushed yet, and whether the inbox will flush them after its batch.
    var needsFlush = false
    var flushQueued = false

    init(
        holder: RuntimeHolder, upstreams: any UpstreamClient, scheme: String, accessLogger: AccessLogger,
        inbox: UpstreamEventInbox, deadlines: ConnectionDeadlines, tunnels: TunnelServices? = nil
    ) {
        self.tunnels = tunnels
        self.inbox = inbox
        self.deadlines = deadlines
        self.holder = holder
        self.runtime = holder.current
        self.upstreams = upstreams
        self.scheme = scheme
        self.accessLogger = accessLogger
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        writer = ClientResponseWriter(context: context)
        peerAddress = context.channel.remoteAddress?.ipAddress
        deadlines.register(self)
        if context.channel.isActive { armIdleTimer() }
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer()
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer = .none
        deadlines.unregister(self)
        self.context = nil
        writer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer = .none
        deadlines.unregister(self)
        switch state {
        case .proxying(let exchange):
            // The client went away: stop the upstream transfer now (its handle is recycled at once).
            exchange.transfer?.cancel()
            if exchange.responseStarted {
                // A client that read a whole answer may close before libcurl has reported the transfer's end (a
                // moment after the last body bytes): whether it got everything is known from that report.
                state = .awaitingUpstreamReport(exchange)
            } else {
                state = .idle
                finish(exchange.record, .clientClosed)
            }
        case .collectingControl(let control), .awaitingControl(let control):
            // An answer still being computed is dropped with the connection, but the request is logged.
            state = .idle
            finish(control.record, .clientClosed)
        case .openingTunnel(let session):
            state = .idle
            session.proxy = nil
            session.tunnel?.close(reason: "client_closed")
            finish(session.record, .clientClosed)
        case .idle, .lingering, .awaitingUpstreamReport:
            break
        }
        sequencer.reset()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .lingering(let bytesLeft) = state {
            return keepLingering(part, bytesLeft: bytesLeft)
        }
        if let event = sequencer.receive(.part(part)) { handle(event) }
    }

    func handle(_ event: RequestSequencer.Event) {
        switch event {
        case .part(.head(let head)): receiveHead(head)
        case .part(.body(let buffer)): receiveBody(buffer)
        case .part(.end): receiveEnd()
        case .malformed(let error): rejectMalformed(error)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .proxying(let exchange) = state,
            case .streaming(let framing, let sendsBody, paused: true) = exchange.response
        {
            exchange.response = .streaming(framing: framing, sendsBody: sendsBody, paused: false)
            exchange.transfer?.resumeResponse()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if case .lingering = state {
            context.read()
        } else if readsHeld || sequencer.isHolding {
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
    func rejectMalformed(_ error: GatewayError) {
        guard let context else { return }
        // The sequencer hands a parse error over mid-request only when the bad bytes are in that request's own body:
        // then that request is what failed, answered (or cut off) and logged once as itself.
        switch state {
        case .proxying(let exchange):
            exchange.transfer?.cancel()
            exchange.keepAlive = false
            failExchange(exchange, with: error)
            context.close(promise: nil)
        case .collectingControl(let control):
            state = .idle
            answer(
                error, record: control.record, version: control.version,
                isHeadRequest: control.request.method == .HEAD, keepAlive: false, bodyUnread: false)
        case .lingering, .awaitingUpstreamReport, .openingTunnel:
            // Already answered and logged, or (a tunnel) ended by the close.
            context.close(promise: nil)
        case .idle, .awaitingControl:
            // Bytes that never made a request: logged under "-", answered without a request id.
            var record = RequestRecord(
                log: AccessLogEntry(time: Date(), requestID: "-", clientAddress: peerAddress, method: "-", path: "-"),
                startedAt: .now())
            record.log.requestID = "-"
            let sent =
                writer?.writeError(
                    error, version: .http1_1, isHeadRequest: false, closes: true, requestID: nil, realm: runtime.realm)
                ?? 0
            finish(record, .answered(status: Int(error.status.code), bodyBytes: sent, error: error.code))
            context.close(promise: nil)
        }
    }

    // MARK: Inbound request

    func receiveHead(_ head: HTTPRequestHead) {
        guard let context else { return }
        runtime = holder.current
        let fields = RequestHeadFields(head.headers)
        // Whole lines: one X-Request-Id is passed through; none, several or an odd one gets a fresh id.
        let requestID =
            (fields.requestIDCount == 1 ? fields.requestID.flatMap { RequestID.accept($0[...]) } : nil)
            ?? RequestID.generate()
        let target = RequestTarget(head.uri)
        var record = RequestRecord(
            log: AccessLogEntry(
                time: Date(), requestID: requestID, clientAddress: peerAddress, method: head.method.rawValue,
                path: target?.path ?? Substring(head.uri.prefix(while: { $0 != "?" }))),
            startedAt: .now())
        if case .client = timer {} else { armClientTimer(runtime.config.server.clientTimeout) }
        // W3C Trace Context: a malformed or repeated traceparent is ignored and a trace started, never refused.
        let trace = runtime.tracer.start(
            head.method.rawValue,
            incoming: fields.traceparentCount == 1 ? fields.traceparent.flatMap { TraceParent($0) } : nil,
            tracestate: fields.tracestate)
        record.trace = trace
        record.log.traceID = trace.traceID

        let plan = RequestPlanner(runtime: runtime, scheme: scheme, trace: trace).plan(
            head, fields: fields, target: target, peerAddress: peerAddress, requestID: requestID, now: Date())
        record.log.route = plan.route
        record.log.openid = plan.openid
        record.cors = plan.cors
        // After a request that asks to switch protocols NIO's parser reads nothing more (as llhttp): whatever the
        // answer, the connection ends with it.
        let keepAlive = head.isKeepAlive && !fields.isUpgrade
        switch plan.decision {
        case .answer(let error, let realm):
            let hasBody = fields.hasBody
            answer(
                error, record: record, version: head.version, isHeadRequest: head.method == .HEAD,
                keepAlive: keepAlive && !hasBody && !error.closesConnection, bodyUnread: hasBody, realm: realm)
        case .control(let endpoints):
            let request = ControlRequest(
                method: head.method, path: target?.path ?? "", query: target?.query ?? "", headers: head.headers,
                body: context.channel.allocator.buffer(capacity: 0), peerAddress: peerAddress, requestID: requestID)
            state = .collectingControl(
                ControlExchange(
                    endpoints: endpoints, request: request, record: record, keepAlive: keepAlive,
                    version: head.version))
        case .forward(let forward):
            let exchange = UpstreamExchange(inbox: inbox, handler: self, plan: forward, record: record, head: head)
            exchange.keepAlive = keepAlive
            state = .proxying(exchange)
            if forward.sendsContinue { writer?.writeContinue(version: head.version) }
            exchange.transfer = upstreams.start(forward.request, for: exchange, affinity: inbox.index)
        case .tunnel(let plan):
            openTunnel(plan, record: record)
        case .preflight(let corsFields):
            let hasBody = fields.hasBody
            answerPreflight(
                corsFields, record: record, version: head.version, keepAlive: keepAlive && !hasBody,
                bodyUnread: hasBody)
        }
    }

    func receiveBody(_ buffer: ByteBuffer) {
        switch state {
        case .proxying(let exchange):
            guard case .streaming = exchange.requestBody, let transfer = exchange.transfer else { return }
            exchange.record.log.bytesIn += buffer.readableBytes
            if exchange.record.log.bytesIn > runtime.config.server.maxBodyBytes.bytes {
                // Checked while streaming (chunked bodies announce no length): stop the upstream transfer.
                // The body stays "streaming", so the connection is closed after the answer.
                transfer.cancel()
                return failExchange(exchange, with: .bodyTooLarge)
            }
            if !transfer.writeBody(buffer) {
                readsHeld = true
            }
        case .collectingControl(var control):
            control.record.log.bytesIn += buffer.readableBytes
            guard
                control.record.log.bytesIn
                    <= min(ControlRequest.maximumBodyBytes, runtime.config.server.maxBodyBytes.bytes)
            else {
                state = .idle
                return answer(
                    .bodyTooLarge, record: control.record, version: control.version,
                    isHeadRequest: control.request.method == .HEAD, keepAlive: false, bodyUnread: true)
            }
            var body = buffer
            control.request.body.writeBuffer(&body)
            state = .collectingControl(control)
        case .idle, .lingering, .awaitingControl, .awaitingUpstreamReport, .openingTunnel:
            break
        }
    }

    func receiveEnd() {
        // The request is read. An idle timer stays: a local answer may have ended before the request did.
        if case .client = timer { timer = .none }
        switch state {
        case .proxying(let exchange):
            if case .streaming = exchange.requestBody {
                exchange.requestBody = .complete
                exchange.transfer?.finishBody()
            }
        case .collectingControl(let control):
            state = .awaitingControl(control)
            startControl(control)
        case .idle, .lingering, .awaitingControl, .awaitingUpstreamReport, .openingTunnel:
            break
        }
    }
}
