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

    private let holder: RuntimeHolder
    /// The configuration snapshot of the request in progress (or the last one): read from `holder` once per
    /// request, at its head, so a request keeps the snapshot it started with and the hot path takes the
    /// holder's lock once, not at every body chunk and timer.
    private var runtime: GatewayRuntime
    private let upstreams: any UpstreamClient
    private let scheme: String
    private let accessLogger: AccessLogger
    private let inbox: UpstreamEventInbox
    private let deadlines: ConnectionDeadlines
    /// nil where tunnels are not offered (tests of the HTTP path): an upgrade on a websocket route is then a 500.
    private let tunnels: TunnelServices?

    private var context: ChannelHandlerContext?
    private var writer: ClientResponseWriter?
    private var peerAddress: String?
    private var state = State.idle
    /// Pipelined requests wait here for their turn.
    private var sequencer = RequestSequencer()
    private var handingOverHeld = false
    /// Request-body back-pressure: reads are held while the upstream's queue is full.
    private var readsHeld = false
    private var readPending = false
    private var timer = Timer.none
    /// Set at shutdown: the current request is finished, then the connection closes.
    private var draining = false
    /// Response bytes written but not flushed yet, and whether the inbox will flush them after its batch.
    private var needsFlush = false
    private var flushQueued = false

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

    private func handle(_ event: RequestSequencer.Event) {
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

    private func receiveHead(_ head: HTTPRequestHead) {
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

        let plan = RequestPlanner(runtime: runtime, scheme: scheme).plan(
            head, fields: fields, target: target, peerAddress: peerAddress, requestID: requestID, now: Date())
        record.log.route = plan.route
        record.log.openid = plan.openid
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
        }
    }

    private func receiveBody(_ buffer: ByteBuffer) {
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

    private func receiveEnd() {
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

    // MARK: Upstream events (on the event loop, delivered by the inbox)

    /// Performs one upstream event. Returns whether this handler wrote bytes that the inbox should flush
    /// after its batch (and had not asked already).
    func receive(_ event: UpstreamEvent, for exchange: UpstreamExchange, from transfer: any UpstreamTransfer) -> Bool {
        switch state {
        case .proxying(let current) where current === exchange && current.transfer === transfer:
            switch event {
            case .head(let head): upstreamHead(head, exchange)
            case .bodyPart(let part): upstreamBodyPart(part, exchange, transfer)
            case .canAcceptMoreBody: releaseReads()
            case .finished(let error, let info): upstreamFinished(error, info, exchange)
            }
        case .awaitingUpstreamReport(let current) where current === exchange && current.transfer === transfer:
            if case .finished(let error, let info) = event {
                reportAfterClientClosed(exchange, error: error, info: info)
            }
        default:
            // A stale event: an earlier transfer of a retried exchange, or one whose request already ended.
            break
        }
        guard needsFlush, !flushQueued else { return false }
        flushQueued = true
        return true
    }

    private func upstreamHead(_ head: CurlResponseHead, _ exchange: UpstreamExchange) {
        guard let writer else { return }
        exchange.plan.pool.recordSuccess(exchange.plan.upstreamIndex)
        guard
            let (framing, closes) = writer.writeUpstreamHead(
                head, requestID: exchange.record.log.requestID, version: exchange.requestVersion,
                keepAlive: exchange.keepAlive && !draining, isHeadRequest: exchange.isHeadRequest)
        else {
            exchange.transfer?.cancel()
            exchange.record.log.status = head.status
            exchange.record.log.error = "upstream_broken: invalid response header"
            return failExchange(exchange, with: .upstreamBroken)
        }
        exchange.record.log.status = head.status
        exchange.response = .streaming(
            framing: framing, sendsBody: !exchange.isHeadRequest && framing != .noBody, paused: false)
        if closes { exchange.keepAlive = false }
        // Flushed with whatever else this batch of upstream events writes (see UpstreamEventInbox),
        // so head, body and end of a small response leave in one write.
        needsFlush = true
    }

    private func upstreamBodyPart(_ part: ByteBuffer, _ exchange: UpstreamExchange, _ transfer: any UpstreamTransfer) {
        guard let context, let writer, case .streaming(let framing, true, let paused) = exchange.response,
            part.readableBytes > 0
        else { return }
        // Counted as sent, as nginx's $body_bytes_sent: nothing for the answer to HEAD.
        exchange.record.log.bytesOut += part.readableBytes
        writer.writeBodyPart(part, framing: framing)
        needsFlush = true
        if !context.channel.isWritable, !paused {
            // A slow client: stop reading from the upstream until the socket drains.
            exchange.response = .streaming(framing: framing, sendsBody: true, paused: true)
            transfer.pauseResponse()
        }
    }

    private func upstreamFinished(_ error: CurlError?, _ info: CurlTransferInfo, _ exchange: UpstreamExchange) {
        guard let context else { return }
        exchange.record.log.upstream = exchange.upstream.description
        exchange.record.log.upstreamSeconds = info.totalSeconds
        guard let error else {
            state = .idle
            releaseReads()
            if case .streaming(let framing, true, _) = exchange.response {
                writer?.writeEnd(framing: framing)
                needsFlush = true
            }
            finish(exchange.record, .forwarded)
            if exchange.requestBody == .streaming {
                // The upstream answered before the client finished sending: the rest of that body would be
                // read as the next request, so the connection ends here, once the client has read the answer.
                exchange.transfer = nil
                flushIfNeeded()
                linger()
            } else if !exchange.keepAlive || draining {
                flushIfNeeded()
                context.close(promise: nil)
            } else {
                responseEnded()
            }
            return
        }
        if case .couldNotConnect = error {
            exchange.plan.pool.recordConnectFailure(exchange.plan.upstreamIndex)
            if let next = RequestPlanner.retry(
                exchange.plan, attempts: exchange.attempts, requestWasSent: info.requestWasSent)
            {
                exchange.attempts += 1
                exchange.plan = next
                exchange.transfer = upstreams.start(next.request, for: exchange, affinity: inbox.index)
                return
            }
        }
        // Mid-body, the client sees a cut response; before the head, a clean error answer.
        exchange.record.log.error =
            exchange.responseStarted ? "upstream_broken: \(Self.describe(error))" : Self.describe(error)
        failExchange(exchange, with: GatewayError(error))
    }

    /// The end of a transfer whose client closed after its answer had started: complete when the upstream's whole
    /// body had been written to the client before it closed, cut off (`client_closed`) otherwise.
    private func reportAfterClientClosed(_ exchange: UpstreamExchange, error: CurlError?, info: CurlTransferInfo) {
        state = .idle
        exchange.transfer = nil
        exchange.record.log.upstream = exchange.upstream.description
        exchange.record.log.upstreamSeconds = info.totalSeconds
        if error != nil || exchange.record.log.bytesOut != info.responseBodyBytes {
            finish(exchange.record, .cutOff(error: exchange.record.log.error ?? "client_closed"))
        } else {
            finish(exchange.record, .forwarded)
        }
    }

    /// Ends a forwarded request that failed: a clean error answer while nothing has been sent, otherwise a cut-off
    /// response (the client must never see a truncated answer that looks complete).
    private func failExchange(_ exchange: UpstreamExchange, with error: GatewayError) {
        state = .idle
        if exchange.responseStarted {
            finish(exchange.record, .cutOff(error: exchange.record.log.error ?? error.code))
            flushIfNeeded()
            context?.close(promise: nil)
            return
        }
        releaseReads()
        let requestComplete = exchange.requestBody != .streaming
        answer(
            error, record: exchange.record, version: exchange.requestVersion,
            isHeadRequest: exchange.isHeadRequest, keepAlive: exchange.keepAlive && requestComplete,
            bodyUnread: !requestComplete)
    }

    // MARK: WebSocket upgrade

    /// Takes a place under `[websocket] max_tunnels` (503 when none is left) and `max_tunnels_per_user` (429), and
    /// checks the token again once the tunnel is recorded (`TunnelRegistry.admit`), all before any upstream
    /// connection; then opens the tunnel. Reads stay held until the upstream has answered.
    private func openTunnel(_ plan: TunnelPlan, record: RequestRecord) {
        guard let context, let tunnels, let tunnelInbox = tunnels.inbox(for: context.eventLoop) else {
            return answer(
                .internalError("websocket tunnels are not available"), record: record, version: .http1_1,
                isHeadRequest: false, keepAlive: false, bodyUnread: false)
        }
        let session = TunnelSession(plan: plan, services: tunnels, inbox: tunnelInbox, record: record, proxy: self)
        let tunnel = tunnels.client.makeTunnel(plan.request, delegate: session, affinity: tunnelInbox.index)
        let limits = runtime.config.websocket
        let refusal: GatewayError
        switch tunnels.registry.admit(
            tunnel, identity: plan.identity, limit: limits.maxTunnels, perUserLimit: limits.maxTunnelsPerUser)
        {
        case .admitted:
            session.tunnel = tunnel
            state = .openingTunnel(session)
            readsHeld = true
            tunnels.client.open(tunnel)
            return
        case .full: refusal = .tooManyTunnels
        case .userFull: refusal = .tooManyTunnelsForUser
        case .revoked: refusal = .authentication(.invalidToken(.revoked))
        }
        session.proxy = nil
        answer(refusal, record: record, version: .http1_1, isHeadRequest: false, keepAlive: false, bodyUnread: false)
    }

    /// The upstream's answer to the upgrade. Returns whether bytes were written that the inbox should flush.
    func receive(tunnelEvent event: CurlTunnelEvent, for session: TunnelSession) -> Bool {
        guard case .openingTunnel(let current) = state, current === session, let context, let writer else {
            return false
        }
        var record = session.record
        record.log.upstream = session.plan.pool.upstreams[session.plan.upstreamIndex].description
        switch event {
        case .switched(let head):
            session.plan.pool.recordSuccess(session.plan.upstreamIndex)
            guard writer.writeSwitchingHead(head, requestID: record.log.requestID) else {
                session.tunnel?.close(reason: "upstream_broken: invalid 101 answer")
                state = .idle
                session.proxy = nil
                record.log.error = "upstream_broken: invalid 101 answer"
                answer(
                    .upstreamBroken, record: record, version: .http1_1, isHeadRequest: false, keepAlive: false,
                    bodyUnread: false)
                return false
            }
            session.record = record
            handOver(session, context: context)
            return false
        case .refused(let head, let body):
            session.plan.pool.recordSuccess(session.plan.upstreamIndex)
            state = .idle
            session.proxy = nil
            record.log.status = head.status
            guard
                let (framing, _) = writer.writeUpstreamHead(
                    head, requestID: record.log.requestID, version: .http1_1, keepAlive: false, isHeadRequest: false)
            else {
                record.log.error = "upstream_broken: invalid response header"
                answer(
                    .upstreamBroken, record: record, version: .http1_1, isHeadRequest: false, keepAlive: false,
                    bodyUnread: false)
                return false
            }
            if framing != .noBody && body.readableBytes > 0 {
                writer.writeBodyPart(body, framing: framing)
                record.log.bytesOut = body.readableBytes
            }
            writer.writeEnd(framing: framing)
            finish(record, .forwarded)
            let channel = context.channel
            context.writeAndFlush(NIOAny(IOData.byteBuffer(ByteBuffer()))).whenComplete { _ in
                channel.close(promise: nil)
            }
            return false
        case .closed(let end):
            state = .idle
            session.proxy = nil
            let error: GatewayError
            switch end {
            case .failed(let failure):
                if case .couldNotConnect = failure {
                    session.plan.pool.recordConnectFailure(session.plan.upstreamIndex)
                }
                record.log.error = Self.describe(failure)
                error = GatewayError(failure)
            case .closedByGateway("revoked"):
                error = .authentication(.invalidToken(.revoked))
            case .closedByGateway(let reason):
                record.log.error = reason
                error = .upstreamUnreachable
            case .clientClosed, .upstreamClosed:
                error = .upstreamBroken
            }
            answer(error, record: record, version: .http1_1, isHeadRequest: false, keepAlive: false, bodyUnread: false)
            return false
        case .data, .canSendMore:
            return false
        }
    }

    /// The upstream switched protocols and its 101 is written: the HTTP handlers leave the pipeline and
    /// `TunnelRelay` takes the connection. Bytes the client sent after its request head (NIO's parser kept them)
    /// reach the relay first.
    private func handOver(_ session: TunnelSession, context: ChannelHandlerContext) {
        guard let tunnel = session.tunnel else { return }
        state = .idle
        timer = .none
        deadlines.unregister(self)
        context.flush()
        let relay = TunnelRelay(session: session, tunnel: tunnel)
        session.proxy = nil
        session.relay = relay
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandler(relay, position: .before(self))
            if let decoder = try? pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) {
                pipeline.removeHandler(decoder, promise: nil)
            }
            if let detector = try? pipeline.handler(type: RequestStartDetector.self) {
                pipeline.removeHandler(detector, promise: nil)
            }
            pipeline.removeHandler(context: context, promise: nil)
        } catch {
            tunnel.close(reason: "internal_error")
            context.close(promise: nil)
        }
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
            loop.execute { handler.value.finishControl(response: response) }
        }
    }

    private func finishControl(response: ControlResponse) {
        guard let context, let writer, case .awaitingControl(let control) = state else { return }
        state = .idle
        let closes = !control.keepAlive || draining
        let sent = writer.writeControlAnswer(
            response, version: control.version, isHeadRequest: control.request.method == .HEAD, closes: closes,
            requestID: control.request.requestID)
        var record = control.record
        record.log.openid = response.openid
        finish(record, .answered(status: Int(response.status.code), bodyBytes: sent, error: nil))
        if closes { context.close(promise: nil) } else { responseEnded() }
    }

    // MARK: Local answers

    /// Answers `error` and ends the request. A request whose body has not been read (`bodyUnread`) is not kept
    /// alive: its unread body would otherwise be parsed as the next request.
    private func answer(
        _ error: GatewayError, record: RequestRecord, version: HTTPVersion, isHeadRequest: Bool, keepAlive: Bool,
        bodyUnread: Bool, realm: String = "gateway"
    ) {
        guard let context, let writer else { return }
        let keepsOpen = keepAlive && !draining
        let sent = writer.writeError(
            error, version: version, isHeadRequest: isHeadRequest, closes: !keepsOpen, requestID: record.log.requestID,
            realm: realm)
        finish(
            record, .answered(status: Int(error.status.code), bodyBytes: sent, error: record.log.error ?? error.code))
        if keepsOpen {
            state = .idle
            responseEnded()
        } else if bodyUnread {
            linger()
        } else {
            state = .idle
            context.close(promise: nil)
        }
    }

    // MARK: Lingering close

    /// Stops writing (the client sees the end of the answer) and reads what the client still sends, dropping it,
    /// until it stops, the bounds pass, or the request's body has all arrived.
    private func linger() {
        guard let context else { return }
        let config = runtime.config.server
        state = .lingering(bytesLeft: Self.lingeringByteLimit)
        readsHeld = false
        readPending = false
        let now = NIODeadline.now()
        timer = .linger(
            idle: now + Self.timeAmount(config.lingeringTimeout), end: now + Self.timeAmount(config.lingeringTime))
        let channel = context.channel
        let closing = context.eventLoop.makePromise(of: Void.self)
        // A half-close the channel cannot do (TLS, a peer already gone) ends in a full close.
        closing.futureResult.whenFailure { _ in channel.close(promise: nil) }
        context.close(mode: .output, promise: closing)
        context.read()
    }

    private func keepLingering(_ part: HTTPServerRequestPart, bytesLeft: Int) {
        guard let context, case .linger(_, let end) = timer else { return }
        switch part {
        case .body(let buffer):
            let left = bytesLeft - buffer.readableBytes
            guard left > 0 else { return context.close(promise: nil) }
            state = .lingering(bytesLeft: left)
            timer = .linger(idle: .now() + Self.timeAmount(runtime.config.server.lingeringTimeout), end: end)
        case .end:
            // The body has all arrived and the client has the answer: nothing is left unread, so closing now sends
            // a FIN, not a reset.
            context.close(promise: nil)
        case .head:
            // A pipelined request after the one answered early: never answered, the connection is ending.
            context.close(promise: nil)
        }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Int64(duration.milliseconds) * 1_000_000)
    }

    // MARK: The one exit

    /// Writes the request's access-log line (and, through `AccessLogger`, its metrics). The caller has already
    /// moved `state` past the request, so no later event can finish it a second time.
    private func finish(_ record: RequestRecord, _ outcome: RequestOutcome) {
        var entry = record.log
        switch outcome {
        case .forwarded:
            break
        case .cutOff(let error):
            entry.error = error
        case .answered(let status, let bodyBytes, let error):
            entry.status = status
            entry.bytesOut = bodyBytes
            entry.error = error
        case .clientClosed:
            entry.status = 499
            entry.error = entry.error ?? "client_closed"
        }
        entry.durationSeconds = Double((NIODeadline.now() - record.startedAt).nanoseconds) / 1e9
        accessLogger.record(entry)
    }

    /// Called by the inbox after a batch: one flush (one writev) for everything written to this connection.
    func flushIfNeeded() {
        flushQueued = false
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
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

    /// This also bounds a client that trickles a request's header block.
    private func armIdleTimer() {
        timer = .idle(.now() + Self.timeAmount(runtime.config.server.idleTimeout))
    }

    private func armClientTimer(_ timeout: Duration) {
        timer = .client(.now() + Self.timeAmount(timeout))
    }

    /// When the armed timer fires, read by the loop's `ConnectionDeadlines`; nil when none is armed.
    var deadline: NIODeadline? {
        switch timer {
        case .none: return nil
        case .idle(let deadline), .client(let deadline): return deadline
        case .linger(let idle, let end): return min(idle, end)
        }
    }

    /// Called by `ConnectionDeadlines` once `deadline` has passed.
    func deadlineExpired() {
        let fired = timer
        timer = .none
        switch fired {
        case .idle:
            if case .idle = state { context?.close(promise: nil) }
        case .client:
            clientTimedOut()
        case .linger:
            context?.close(promise: nil)
        case .none:
            break
        }
    }

    /// The first bytes of a request arrived (seen by `RequestStartDetector` before parsing): from now on
    /// the client has `client_timeout` to deliver the whole request, header block included.
    func requestBytesArrived() {
        if case .idle = timer, case .idle = state {
            armClientTimer(runtime.config.server.clientTimeout)
        }
    }

    /// Whether the detector needs to report arriving bytes (only between requests).
    var isAwaitingRequest: Bool {
        if case .idle = timer { return true }
        return false
    }

    private func clientTimedOut() {
        switch state {
        case .proxying(let exchange):
            exchange.transfer?.cancel()
            exchange.record.log.error = "client_timeout"
            failExchange(exchange, with: .clientTimeout)
        case .collectingControl(let control):
            state = .idle
            answer(
                .clientTimeout, record: control.record, version: control.version,
                isHeadRequest: control.request.method == .HEAD, keepAlive: false, bodyUnread: true)
        case .idle, .lingering, .awaitingControl, .awaitingUpstreamReport, .openingTunnel:
            context?.close(promise: nil)
        }
    }

    // MARK: Helpers

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
