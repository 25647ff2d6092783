#if canImport(Glibc)
import CCurl
import GatewayCore
import Glibc

/// The worker's libcurl side: transfers started and ended, the answer relayed as libcurl hands it over, and the
/// callbacks that put libcurl's sockets and timer into the worker's `epoll` set (docs/libcurl.md).
extension EngineWorker {
    func startTransfer(_ client: EngineClient, plan: ForwardPlan, head: RequestHead) {
        let transfer: EngineTransfer
        if let idle = idleTransfers.popLast() {
            transfer = idle
        } else {
            do {
                transfer = try EngineTransfer(worker: self)
            } catch {
                failTransfer(client, .internalError("curl_easy_init failed"))
                return
            }
        }
        // The trace's two parts read where the request keeps them: `client.request?.trace` copied the whole span.
        let request = client.request
        transfer.lines.build(
            head: head, rules: rules, buffer: client.input, plan: plan, identity: settings.identity, peer: client.peer,
            trustedPeer: isTrusted(client), traceParent: request?.trace?.forwarded,
            tracestate: request?.trace?.tracestate, overTLS: client.transport.isTLS)
        transfer.configure(
            method: head.method, body: Self.uploadBody(of: head),
            connectTimeoutMilliseconds: routeTimeouts.of(plan.connectTimeout),
            timeoutMilliseconds: routeTimeouts.of(plan.timeout))
        transfer.verifyUpstream(caFile: plan.caFile, insecure: plan.insecureSkipVerify)
        transfer.client = client
        client.transfer = transfer
        // Runs at the next CURL_SOCKET_TIMEOUT action: adding sets libcurl's timer to zero.
        if curl_multi_add_handle(multi, transfer.easy) != CURLM_OK {
            transfer.client = nil
            client.transfer = nil
            idleTransfers.append(transfer)
            failTransfer(client, .internalError("curl_multi_add_handle failed"))
        }
    }

    private func failTransfer(_ client: EngineClient, _ error: GatewayError) {
        guard case .answer(let then) = client.connection.upstreamFailed() else { return }
        answer(client, error, then: then, shape: shape(of: client))
        if then == .next { parseRequests(client) }
    }

    private func shape(of client: EngineClient) -> EngineConnection.RequestShape {
        EngineConnection.RequestShape(
            keepAlive: true, isHead: client.request?.isHead ?? false, isHTTP10: client.request?.isHTTP10 ?? false)
    }

    /// The upstream's head is complete (called from libcurl's header callback). False: refuse it, which aborts the
    /// transfer.
    func upstreamHeadEnded(_ transfer: EngineTransfer) -> Bool {
        guard let client = transfer.client else { return true }
        // The head lent in place for the calls that read it (nothing they reach touches the transfer): passed by
        // value from the transfer's property, each call copied it first, a retain and release of its two arrays.
        return upstreamHeadEnded(client, head: &transfer.head)
    }

    private func upstreamHeadEnded(_ client: EngineClient, head: inout UpstreamHead) -> Bool {
        let inspection = ClientHeadWriter.inspect(head)
        let action = client.connection.upstreamHeadReceived(
            status: head.status, hasContentLength: inspection.contentLength != nil, passable: inspection.passable)
        switch action {
        case .ignore:
            return true
        case .abort:
            return false
        case .writeHead(let framing, let closes):
            // The request is read once here, not through an optional chain per property (six loads of the class
            // reference, each retained and released).
            let request = client.request
            ClientHeadWriter.writeHead(
                head, contentLength: inspection.contentLength, framing: framing, closes: closes,
                requestID: request?.requestID ?? "", isHTTP10: request?.isHTTP10 ?? false,
                cors: request?.cors ?? .none, into: &client.output)
            request?.status = head.status
            if let request, let pool = request.pool { pool.recordSuccess(request.upstreamIndex) }
            markDirty(client)
            return true
        }
    }

    /// A piece of the body, as libcurl hands it over (at most 16 KiB): queued for the pass's flush, never collected.
    func upstreamBody(_ transfer: EngineTransfer, _ bytes: UnsafeRawBufferPointer) {
        guard let client = transfer.client else { return }
        switch client.connection.upstreamBodyReceived() {
        case .writeRaw: client.output.append(contentsOf: bytes)
        case .writeChunk: ClientHeadWriter.writeChunk(bytes, into: &client.output)
        case .discard: return
        }
        client.request?.bytesOut += bytes.count
        markDirty(client)
    }

    func drainFinishedTransfers() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            if let link = tunnels.connecting[easy] {
                tunnelConnected(link, result: message.pointee.data.result)
                continue
            }
            let result = message.pointee.data.result
            var context: UnsafeMutableRawPointer?
            _ = gw_easy_getinfo_ptr(easy, CURLINFO_PRIVATE, &context)
            curl_multi_remove_handle(multi, easy)
            guard let context else { continue }
            let transfer = Unmanaged<EngineTransfer>.fromOpaque(context).takeUnretainedValue()
            let client = transfer.client
            let refused = transfer.headRefused
            if result != CURLE_OK, result != CURLE_WRITE_ERROR, !refused, let client, client.isOpen,
                retryElsewhere(client, transfer, result: result)
            {
                continue
            }
            transfer.client = nil
            idleTransfers.append(transfer)
            guard let client, client.isOpen else { continue }
            client.transfer = nil
            noteUpstreamTime(client, easy)
            transferEnded(client, result: result, headRefused: refused)
        }
    }

    private func transferEnded(_ client: EngineClient, result: CURLcode, headRefused: Bool) {
        let action = result == CURLE_OK ? client.connection.upstreamEnded() : client.connection.upstreamFailed()
        switch action {
        case .finish(let lastChunk, let then):
            if lastChunk { ClientHeadWriter.writeLastChunk(into: &client.output) }
            finish(client, error: nil)
            markDirty(client)
            proceed(client, then)
            if then == .next { parseRequests(client) }
        case .answer(let then):
            let error: GatewayError
            if let failure = client.request?.failure, !headRefused {
                error = failure.answer
                client.request?.error = failure.logText
            } else if headRefused || result == CURLE_WRITE_ERROR {
                error = .upstreamBroken
            } else if result == CURLE_OPERATION_TIMEDOUT {
                error = .upstreamTimeout
            } else {
                error = .upstreamUnreachable
            }
            answer(client, error, then: then, shape: shape(of: client))
            if then == .next { parseRequests(client) }
        case .close:
            finish(client, error: "upstream_failed")
            markDirty(client)
        case .ignore:
            break
        }
    }

    func curlEvent(_ fd: Int32, _ flags: UInt32) {
        var action: Int32 = 0
        if flags & EpollSet.readable != 0 { action |= gw_cselect_in() }
        if flags & EpollSet.writable != 0 { action |= gw_cselect_out() }
        if flags & (EpollSet.error | EpollSet.hangUp) != 0 { action |= gw_cselect_err() }
        // A parked pooled socket reported something: the upstream closed it. Stop watching it; libcurl finds it dead
        // when it next looks, and closes it through the close callback.
        if !epoll[fd].wanted { epoll.drop(fd) }
        curl_multi_socket_action(multi, fd, action, &running)
    }

    func runTimeout() {
        timerChanged = false
        curl_multi_socket_action(multi, gw_socket_timeout(), 0, &running)
        if !timerChanged {
            // libcurl calls the timer callback only when its next deadline moves; ask it.
            var milliseconds = 0
            curl_multi_timeout(multi, &milliseconds)
            deadline = milliseconds < 0 ? nil : passTime + UInt64(milliseconds) * 1_000_000
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        MillisecondsMemo.convert(duration)
    }

    // The worker is borrowed (`_withUnsafeGuaranteedRef`), not retained, in the callbacks libcurl makes on every
    // transfer: it runs the multi handle that calls them, so it is alive.
    static let socketCallback: curl_socket_callback = { _, fd, what, context, _ in
        Unmanaged<EngineWorker>.fromOpaque(context!)._withUnsafeGuaranteedRef { worker in
            if what == gw_poll_remove() {
                // Kept registered while parked in libcurl's pool (HAProxy's rule): the next transfer on it costs no
                // epoll_ctl when it wants the same events.
                worker.epoll.setWanted(fd, false)
                return 0
            }
            worker.epoll.setWanted(fd, true)
            var events: UInt32 = 0
            if what & gw_poll_in() != 0 { events |= EpollSet.readable }
            if what & gw_poll_out() != 0 { events |= EpollSet.writable }
            worker.epoll.want(fd, events: events)
            return 0
        }
    }

    static let timerCallback: curl_multi_timer_callback = { _, milliseconds, context in
        Unmanaged<EngineWorker>.fromOpaque(context!)._withUnsafeGuaranteedRef { worker in
            worker.timerChanged = true
            worker.deadline = milliseconds < 0 ? nil : worker.passTime + UInt64(milliseconds) * 1_000_000
            return 0
        }
    }

    static let openSocketCallback: curl_opensocket_callback = { context, _, address in
        let worker = Unmanaged<EngineWorker>.fromOpaque(context!).takeUnretainedValue()
        guard let address else { return -1 }
        let fd = socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
        if fd >= 0 { worker.epoll.adopt(fd, as: .curl) }
        return fd
    }

    static let closeSocketCallback: curl_closesocket_callback = { context, fd in
        let worker = Unmanaged<EngineWorker>.fromOpaque(context!).takeUnretainedValue()
        worker.epoll.drop(fd)
        worker.epoll.forget(fd)
        return close(fd)
    }
}
#endif
