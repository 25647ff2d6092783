#if canImport(Glibc)
import CCurl
import Foundation
import GatewayCore
import CEpoll
import Glibc

/// One engine worker (issue 23): a thread with its own `epoll` set, listening socket and libcurl multi handle, owning
/// its client connections for their whole life. Client sockets and libcurl's sockets are in the one set; libcurl is
/// driven by `curl_multi_socket_action`. Nothing crosses threads per request.
///
/// The worker is the driver only: it reads, feeds events to each connection's `EngineConnection` and performs the
/// actions that come back. One pass: wait, handle every event (reads, accepts, libcurl's sockets), collect finished
/// transfers, run libcurl's timer when due, then flush every connection that has output, one `write` each.
final class EngineWorker {
    var settings: EngineSettings
    /// `serve`: the service's snapshot, looked at per request head (reloads); nil for a worker without a service.
    var source: EngineRuntimeSource?
    /// `serve`: what the workers share (open connections); nil for a worker without a pool.
    var pool: EngineWorkerPool?
    /// Work from other threads (`EngineWorker+Mailbox`), and whether a drain began.
    let mailbox: EngineMailbox<EngineWorkerMail>
    var draining = false
    let epoll: EpollSet
    let listener: Int32
    let multi: UnsafeMutableRawPointer
    /// When libcurl wants `CURL_SOCKET_TIMEOUT` run, in `CLOCK_MONOTONIC` nanoseconds.
    var deadline: UInt64?
    /// `CLOCK_MONOTONIC` read when `epoll_wait` returned and again after the pass's events, as nginx caches its time:
    /// what timers are armed from. Two clock reads per pass rather than several per request and per relayed message;
    /// a timer armed late in a stretch fires at most that stretch's length early.
    var passTime = EngineWorker.now()
    /// The routes' timeouts in milliseconds for libcurl, remembered (`Duration.components` divides 128-bit
    /// attoseconds, twice per request).
    var routeTimeouts = MillisecondsMemo()
    var timerChanged = false
    var clients: [EngineClient?] = Array(repeating: nil, count: 1024)
    var idleTransfers: [EngineTransfer] = []
    var dirty: [EngineClient] = []
    var rules: [RequestFieldRule] = []
    var running: Int32 = 0
    /// Connections lingering after an early answer, checked against their deadlines on every pass.
    var lingering: [EngineClient] = []
    /// The earliest client-timer deadline a connection armed, or later (`EngineWorker+Timers`); `.max`: none.
    var timerSweepAt = UInt64.max
    /// Counters for the `SIGUSR1` report (`EngineReportSignal`), and the reports asked for so far.
    var requests = 0
    var reportsSeen = 0
    /// The most bytes a connection's read buffer held for a request body (body for libcurl and bytes after it): the
    /// back-pressure bound, observable from outside.
    var bodyWaitingMax = 0
    /// WebSocket tunnels (`EngineWorker+Tunnel`).
    let tunnels = EngineTunnelTable()
    /// `[server] tls_certificate`: connections speak TLS (`EngineWorker+TLS`); nil for plain HTTP.
    var tls: EngineTLSContextBox?
    /// TLS connections with decrypted bytes waiting inside OpenSSL, read again before the next wait.
    var tlsPendingReads: [EngineClient] = []

    init(settings: EngineSettings) throws(EngineError) {
        self.settings = settings
        epoll = try EpollSet()
        listener = try EngineListener.open(settings.listen)
        guard let multi = curl_multi_init() else { throw EngineError.curl("curl_multi_init failed") }
        self.multi = multi
        mailbox = try EngineMailbox()
        rules.reserveCapacity(64)
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = gw_multi_setopt_socketfn(multi, EngineWorker.socketCallback)
        _ = gw_multi_setopt_ptr(multi, CURLMOPT_SOCKETDATA, context)
        _ = gw_multi_setopt_timerfn(multi, EngineWorker.timerCallback)
        _ = gw_multi_setopt_ptr(multi, CURLMOPT_TIMERDATA, context)
        // The pool is the multi handle's; its default (4x the handles added) shrinks when traffic drops.
        _ = gw_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 256)
        epoll.adopt(listener, as: .listener)
        epoll.want(listener, events: EpollSet.readable)
        epoll.adopt(mailbox.descriptor, as: .mailbox)
        epoll.want(mailbox.descriptor, events: EpollSet.readable)
    }

    /// Runs the loop on the calling thread, forever.
    func run() -> Never {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        while true {
            if EngineReportSignal.takeReport(seen: &reportsSeen) { report() }
            let count = epoll_wait(epoll.descriptor, events, Int32(capacity), timeoutMilliseconds())
            passTime = Self.now()
            if count < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait: \(String(cString: strerror(errno)))")
            }
            for index in 0..<Int(count) {
                let fd = events[index].data.fd
                let flags = events[index].events
                switch epoll[fd].kind {
                case .listener: acceptAll()
                case .mailbox: takeMail()
                case .client: if let client = clients[Int(fd)] { clientEvent(client, flags) }
                case .curl: curlEvent(fd, flags)
                case .tunnel: tunnelUpstreamEvent(fd, flags)
                case .unused: epoll_ctl(epoll.descriptor, EPOLL_CTL_DEL, fd, nil)
                }
            }
            drainFinishedTransfers()
            passTime = Self.now()
            if let deadline, deadline <= passTime {
                runTimeout()
                drainFinishedTransfers()
            }
            if timerSweepAt != .max, timerSweepAt <= passTime { sweepTimers(now: passTime) }
            if !tlsPendingReads.isEmpty { readTLSPending() }
            flushDirty()
            source?.gauge.transfers.store(Int(running), ordering: .relaxed)
            if !lingering.isEmpty { expireLingering() }
            if !tunnels.isEmpty { sweepTunnels() }
        }
    }

    // MARK: - clients

    private func acceptAll() {
        while let (fd, peer) = EngineListener.accept(listener) {
            guard admit(fd) else { continue }
            let client = EngineClient(fd: fd, peer: peer, inputCapacity: settings.maxHeaderBytes + 1024)
            if let tls, !startTLS(client, tls) { continue }
            if Int(fd) >= clients.count {
                clients.append(contentsOf: repeatElement(nil, count: Int(fd) + 1024 - clients.count))
            }
            clients[Int(fd)] = client
            pool?.opened()
            epoll.adopt(fd, as: .client)
            epoll.want(fd, events: EpollSet.readable)
            armIdleTimer(client)
        }
    }

    private func clientEvent(_ client: EngineClient, _ flags: UInt32) {
        // A TLS read waiting for the socket to be writable (a handshake message to send) goes on when it is.
        let flags = client.transport.waitsForWritable ? flags | EpollSet.readable : flags
        if let link = client.tunnel {
            tunnelClientEvent(link, flags)
            return
        }
        if flags & EpollSet.writable != 0 && client.pendingOutput > 0 {
            flush(client)
            guard client.isOpen else { return }
        }
        if flags & (EpollSet.readable | EpollSet.hangUp | EpollSet.error) != 0 {
            if !client.readsHeld {
                read(client)
            } else if flags & (EpollSet.hangUp | EpollSet.error) != 0 {
                // Reported whatever is registered: with reads held it would fire again on every pass.
                peerClosed(client)
            }
        }
    }

    func read(_ client: EngineClient) {
        if client.filled == client.inputCapacity && client.readsBody { client.compactBody() }
        if client.filled == client.inputCapacity {
            // A whole buffer waits behind the request being answered: stop reading until it is parsed.
            client.readsHeld = true
            epoll.want(client.fd, events: client.pendingOutput > 0 ? EpollSet.writable : 0)
            return
        }
        let count = client.transport.read(client.fd, client.input + client.filled, client.inputCapacity - client.filled)
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) {
            peerClosed(client)
            return
        }
        guard count > 0 else {
            if case .tls = client.transport { tlsReadWaits(client) }
            return
        }
        client.filled += count
        if case .awaitingHead = client.connection.state {
            requestBytesArrived(client)
            parseRequests(client)
        } else if client.readsBody {
            parseBody(client)
        }
        if case .tls = client.transport { tlsReadDone(client) }
    }

    /// Takes requests from the read buffer while the connection waits for one: several when they were pipelined and
    /// answered here, one when it goes upstream (the next waits for its answer).
    func parseRequests(_ client: EngineClient) {
        parsing: while client.isOpen, case .awaitingHead = client.connection.state, client.filled > client.parsed {
            switch client.parser.parse(client.input, from: client.parsed, count: client.filled - client.parsed) {
            case .needMore:
                client.parsed = client.filled
                // Not `return`: reads held while the request before was answered must resume for the rest of this head.
                guard client.filled == client.inputCapacity else { break parsing }
                let shape = EngineConnection.RequestShape(keepAlive: false, isHead: false, isHTTP10: false)
                beginLocalRequest(client, head: nil, path: "")
                _ = client.connection.headReceived(shape, forward: false, closes: true)
                answer(client, .headersTooLarge, then: .close, shape: shape)
                return
            case .invalid:
                beginLocalRequest(client, head: nil, path: "")
                let shape = EngineConnection.RequestShape(keepAlive: false, isHead: false, isHTTP10: false)
                if case .answer(let then) = client.connection.parseFailed() {
                    answer(client, .malformedRequest, then: then, shape: shape)
                } else {
                    destroy(client)
                }
                return
            case .request(let consumed):
                client.parsed += consumed
                // A body (if any) starts here, and its content is gathered from here on (`parseBody`).
                client.bodyStart = client.parsed
                client.bodyEnd = client.parsed
                requestHead(client)
            }
        }
        if client.isOpen, client.readsHeld, case .awaitingHead = client.connection.state {
            client.readsHeld = false
            epoll.want(client.fd, events: EpollSet.readable | (client.pendingOutput > 0 ? EpollSet.writable : 0))
        }
    }

    private func requestHead(_ client: EngineClient) {
        source?.refresh(&settings)
        let head = client.parser.head
        // Draining: this request is answered with `Connection: close` and is the connection's last.
        let shape = EngineConnection.RequestShape(
            keepAlive: head.keepAlive && !head.isUpgrade && !draining, isHead: head.method == "HEAD",
            isHTTP10: head.isHTTP10)
        requests += 1
        requestBytesArrived(client)
        let body = EngineConnection.RequestBody(
            announced: head.hasBody, expectsContinue: head.expectsContinue, maxBytes: settings.maxBodyBytes)
        if head.hasBody, let refusal = Self.refusal(of: head, maxBodyBytes: settings.maxBodyBytes) {
            // Framing and limits first: nothing else is worth doing for a body we will not take.
            beginLocalRequest(client, head: head, path: "")
            if case .answer(let then) = client.connection.headReceived(shape, forward: false, body: body) {
                answer(client, refusal, then: then, shape: shape)
            }
            return
        }
        // CORS is decided from the head before anything else, so every answer carries its fields; a preflight is
        // answered here.
        let cors = settings.planner.corsDecision(head, in: client.input)
        if let cors, answerCors(cors, client, head: head, shape: shape, body: body) { return }
        let trace = settings.runtime.map { EngineRequestPlanner.startTrace($0.tracer, head, in: client.input) }
        if head.isUpgrade, upgradeHead(client, head: head, shape: shape, body: body, trace: trace) { return }
        let now = Date()
        let target = EngineRequestPlanner.target(of: head, in: client.input)
        if startControlIfHandled(client, head: head, target: target, shape: shape, now: now, trace: trace) {
            // Its answer comes later, through the mailbox: what it needs from here waits in the request.
            if cors != nil { client.request?.cors = EngineRequestPlanner.answerFields(cors) }
            client.request?.trace = trace
            return
        }
        switch settings.planner.plan(head, in: client.input, target: target, rules: &rules, now: now) {
        case .forward(let plan):
            client.request = InFlightRequest(
                requestID: plan.requestID, method: head.method, path: plan.target.path, route: plan.routePrefix,
                upstream: plan.upstream.description, openid: plan.claims?.subject, isHead: shape.isHead,
                isHTTP10: shape.isHTTP10, startedAt: now)
            if cors != nil { client.request?.cors = EngineRequestPlanner.answerFields(cors) }
            client.request?.trace = trace
            if let pool = plan.pool, pool.upstreams.count > 1 { rememberPool(client, plan) }
            switch client.connection.headReceived(shape, forward: true, body: body) {
            case .startTransfer: startTransfer(client, plan: plan, head: head)
            case .continueAndStartTransfer:
                // RFC 9110 section 10.1.1: the request is accepted, so the client may send its body now.
                client.output.append(contentsOf: Self.continueLine)
                markDirty(client)
                startTransfer(client, plan: plan, head: head)
            case .answer, .close: destroy(client)
            }
            if client.isOpen && head.hasBody { parseBody(client) }
        case .answer(let error, let requestID, let path, let route):
            client.request = InFlightRequest(
                requestID: requestID, method: head.method, path: path, route: route, upstream: nil, openid: nil,
                isHead: shape.isHead, isHTTP10: shape.isHTTP10, startedAt: now)
            if cors != nil { client.request?.cors = EngineRequestPlanner.answerFields(cors) }
            client.request?.trace = trace
            switch client.connection.headReceived(shape, forward: false, closes: error.closesConnection, body: body) {
            case .answer(let then): answer(client, error, then: then, shape: shape)
            case .startTransfer, .continueAndStartTransfer, .close: destroy(client)
            }
        }
    }

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private func beginLocalRequest(_ client: EngineClient, head: RequestHead?, path: Substring) {
        client.request = InFlightRequest(
            requestID: RequestID.generate(), method: head?.method ?? "-", path: path, route: nil, upstream: nil,
            openid: nil, isHead: head?.method == "HEAD", isHTTP10: head?.isHTTP10 ?? false, startedAt: Date())
    }

    /// The gateway's own answer ends the request: written, logged, then the next request or the close.
    func answer(
        _ client: EngineClient, _ error: GatewayError, then: EngineConnection.Then,
        shape: EngineConnection.RequestShape
    ) {
        let requestID = client.request?.requestID ?? RequestID.generate()
        let (status, bodyBytes) = ClientHeadWriter.writeAnswer(
            error, requestID: requestID, realm: settings.realm, isHead: shape.isHead, closes: then != .next,
            isHTTP10: shape.isHTTP10, cors: client.request?.cors ?? .none, into: &client.output)
        client.request?.status = status
        client.request?.bytesOut = bodyBytes
        finish(client, error: error.code)
        markDirty(client)
        proceed(client, then)
    }

    /// After a request ended: drop its bytes from the read buffer for the next one, or close once written.
    func proceed(_ client: EngineClient, _ then: EngineConnection.Then) {
        switch then {
        case .next:
            client.discardParsedInput()
            armIdleTimer(client)
        case .linger: startLingering(client)
        case .close: break
        }
    }

    /// The one exit of every request: its access-log line (`AccessLogEntry`, the gateway's format).
    func finish(_ client: EngineClient, error: String?) {
        // Moved out, not copied: a copy retains every field of the request once more. The request is this function's
        // alone now, so its span and its strings are moved out of it too (`InFlightRequest.takeLogEntry`).
        guard let request = client.request.take() else { return }
        let trace = request.trace.take()
        guard settings.log != nil || settings.accessLogger != nil || trace != nil else { return }
        var entry = request.takeLogEntry(clientAddress: client.peer, error: error, endedAt: Date())
        entry.traceIDHalves = trace.map { ($0.forwarded.traceIDHigh, $0.forwarded.traceIDLow) }
        if let recorder = settings.accessLogger {
            recorder.record(entry)
        } else {
            settings.log?.append { entry.write(into: &$0) }
        }
        // A tunnel's span is named for what it became: "GET websocket /ws/".
        trace?.end(entry, kind: request.status == 101 ? "websocket" : nil)
    }

    func markDirty(_ client: EngineClient) {
        guard !client.isDirty else { return }
        client.isDirty = true
        dirty.append(client)
    }

    private func flushDirty() {
        // By index: resuming a paused transfer may deliver body bytes, and so mark more connections dirty.
        var index = 0
        while index < dirty.count {
            let client = dirty[index]
            client.isDirty = false
            if client.isOpen { flush(client) }
            index += 1
        }
        dirty.removeAll(keepingCapacity: true)
    }

    /// Writes what waits for the client; performs the connection's pause, resume and close decisions.
    private func flush(_ client: EngineClient) {
        while client.pendingOutput > 0 {
            let written = client.output.withUnsafeBytes { bytes in
                client.transport.write(client.fd, bytes.baseAddress! + client.outputSent, client.pendingOutput)
            }
            if written > 0 {
                client.outputSent += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            if written < 0 && errno == EAGAIN {
                epoll.want(client.fd, events: (client.readsHeld ? 0 : EpollSet.readable) | EpollSet.writable)
                if client.connection.outputPending(client.pendingOutput, limit: settings.outputLimit) {
                    applyPause(client)
                }
                return
            }
            peerClosed(client)
            return
        }
        client.output.removeAll(keepingCapacity: true)
        client.outputSent = 0
        if epoll[client.fd].registered & EpollSet.writable != 0 {
            epoll.want(client.fd, events: client.readsHeld ? 0 : EpollSet.readable)
        }
        switch client.connection.state {
        case .closed:
            destroy(client)
            return
        case .lingering where !client.halfClosed:
            // The answer is out: the client sees its end, and the rest of its body is still read.
            client.halfClosed = true
            client.transport.endOutput()
            shutdown(client.fd, Int32(SHUT_WR))
        default: break
        }
        if client.connection.outputDrained() { applyPause(client) }
    }

    func peerClosed(_ client: EngineClient) {
        switch client.connection.peerClosed() {
        case .abortTransferAndClose:
            // nginx's 499 before the answer started; after, the upstream's status, cut off.
            if client.request?.status == 0 { client.request?.status = 499 }
            if let transfer = client.transfer { noteUpstreamTime(client, transfer.easy) }
            finish(client, error: "client_closed")
        case .close: break
        }
        destroy(client)
    }

    /// Closes the connection and aborts its transfer, if any.
    func destroy(_ client: EngineClient) {
        guard client.isOpen else { return }
        if let link = client.tunnel { releaseTunnel(link) }
        abortTransfer(client)
        client.isOpen = false
        epoll.forget(client.fd)
        clients[Int(client.fd)] = nil
        client.transport.endOutput()
        close(client.fd)
        pool?.closed()
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private func timeoutMilliseconds() -> Int32 {
        if hasTLSPendingReads { return 0 }
        // Lingering connections are few and short-lived: their deadlines are looked at at least once a second.
        let cap: UInt64 = lingering.isEmpty && tunnels.isEmpty ? 60_000 : 1000
        // The earlier of libcurl's deadline and the client timers' (`EngineWorker+Timers`).
        let deadline = min(self.deadline ?? .max, timerSweepAt)
        guard deadline != .max else { return lingering.isEmpty ? -1 : Int32(cap) }
        let now = Self.now()
        guard deadline > now else { return 0 }
        return Int32(min((deadline - now + 999_999) / 1_000_000, cap))
    }

    private func report() {
        let line =
            "engine: requests=\(requests) epoll_ctl=\(epoll.controlCalls) "
            + "connections=\(clients.lazy.filter { $0 != nil }.count) idle_transfers=\(idleTransfers.count) "
            + "body_waiting_max=\(bodyWaitingMax)\n"
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }
}
#endif
