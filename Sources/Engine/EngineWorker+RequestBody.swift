#if canImport(CCurl) && canImport(Glibc)
import CCurl
import GatewayCore
import Glibc

/// The worker's request-body side: the body parsed in place in the client's read buffer, handed to libcurl from its
/// read callback, the client's reads held while the buffer is full of body libcurl has not taken (back-pressure), and
/// the lingering close after an answer that left a body unread. Every decision is `EngineConnection`'s.
extension EngineWorker {
    /// Refusals decided from the head alone, before anything else (RFC 9112 section 6.1: a Transfer-Encoding
    /// in HTTP/1.0 is faulty framing; a coding we do not implement is 501; then the size limit).
    static func refusal(of head: RequestHead, maxBodyBytes: Int) -> GatewayError? {
        if head.hasTransferEncoding && head.isHTTP10 { return .malformedRequest }
        if head.transferCodingRefused { return .unsupportedTransferCoding }
        if let length = head.bodyLength, length > maxBodyBytes { return .bodyTooLarge }
        return nil
    }

    /// The transfer's upload, as the request's head announced it.
    static func uploadBody(of head: RequestHead) -> EngineTransfer.Body {
        if head.hasBody { return .streamed(length: head.bodyLength) }
        switch head.method {
        case "POST", "PUT", "PATCH": return .empty
        default: return .none
        }
    }

    /// Parses what was read of the request's body, then performs the connection's decision about it.
    func parseBody(_ client: EngineClient) {
        let before = client.bodyEnd
        var ended = false
        if client.parsed < client.filled {
            switch client.parser.parseBody(
                client.input, from: client.parsed, count: client.filled - client.parsed, bodyEnd: &client.bodyEnd)
            {
            case .needMore:
                client.parsed = client.filled
            case .ended(let consumed):
                client.parsed += consumed
                ended = true
            case .invalid:
                bodyFramingFailed(client)
                return
            }
        }
        let arrived = client.bodyEnd - before
        client.request?.bytesIn += arrived
        let action = client.connection.bodyArrived(
            arrived, ended: ended, pending: client.waitingInput, limit: client.inputCapacity)
        switch action {
        case .feed(let resumeUpstream, let holdReads):
            bodyWaitingMax = max(bodyWaitingMax, client.waitingInput)
            if resumeUpstream { applyPause(client) }
            if holdReads {
                client.readsHeld = true
                epoll.want(client.fd, events: client.pendingOutput > 0 ? EpollSet.writable : 0)
            } else if client.readsHeld && client.readsBody {
                // Held while the request before was answered (its pipelined successor filled the buffer): this
                // request's body is still to come, so the client is read again.
                client.readsHeld = false
                epoll.want(client.fd, events: EpollSet.readable | (client.pendingOutput > 0 ? EpollSet.writable : 0))
            }
            if client.control != nil { collectControlBody(client) }
        case .refuseTooLarge:
            abortTransfer(client)
            answer(client, .bodyTooLarge, then: .linger, shape: requestShape(of: client))
        case .abortAndClose:
            abortTransfer(client)
            finish(client, error: GatewayError.bodyTooLarge.code)
            markDirty(client)
        case .discard:
            dropBody(client, arrived)
        case .close:
            markDirty(client)
        }
    }

    /// Bytes that are not HTTP/1.1 chunk framing: the request cannot be finished, and nothing after it trusted.
    private func bodyFramingFailed(_ client: EngineClient) {
        abortTransfer(client)
        switch client.connection.bodyMalformed() {
        case .abortAndAnswer:
            answer(client, .malformedRequest, then: .close, shape: requestShape(of: client))
        case .abortAndClose:
            if client.request != nil { finish(client, error: GatewayError.malformedRequest.code) }
            markDirty(client)
        }
    }

    /// libcurl's read callback for the transfer of `transfer.client`: copies the body that waits, at most `capacity`.
    func uploadRead(_ transfer: EngineTransfer, into data: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        guard let client = transfer.client else { return gw_readfunc_abort() }
        let pending = client.bodyEnd - client.bodyStart
        switch client.connection.upstreamWantsBody(pending: pending) {
        case .copy:
            let count = min(pending, capacity)
            UnsafeMutableRawPointer(data).copyMemory(from: client.input + client.bodyStart, byteCount: count)
            client.bodyStart += count
            if client.bodyStart == client.bodyEnd && client.parsed == client.filled {
                // Everything read went up: the buffer is empty again, at no cost.
                client.bodyStart = 0
                client.bodyEnd = 0
                client.parsed = 0
                client.filled = 0
            }
            if client.connection.bodyTaken(pending: client.waitingInput, limit: client.inputCapacity) {
                client.compactBody()
                client.readsHeld = false
                epoll.want(
                    client.fd, events: EpollSet.readable | (client.pendingOutput > 0 ? EpollSet.writable : 0))
            }
            return count
        case .pause: return gw_readfunc_pause()
        case .end: return 0
        case .abort: return gw_readfunc_abort()
        }
    }

    /// Pauses or resumes libcurl's two directions for the connection's transfer as the connection says
    /// (`curl_easy_pause` sets both at once, so one call carries both).
    func applyPause(_ client: EngineClient) {
        guard let transfer = client.transfer else { return }
        let pause = client.connection.upstreamPause
        _ = curl_easy_pause(transfer.easy, (pause.receive ? gw_pause_recv() : 0) | (pause.send ? gw_pause_send() : 0))
    }

    /// Takes the connection's transfer out of libcurl (its handle goes back to the free list).
    func abortTransfer(_ client: EngineClient) {
        guard let transfer = client.transfer else { return }
        curl_multi_remove_handle(multi, transfer.easy)
        transfer.client = nil
        idleTransfers.append(transfer)
        client.transfer = nil
    }

    /// After an answer that left the body unread: reads go on and are dropped, bounded in bytes and time.
    func startLingering(_ client: EngineClient) {
        let now = Self.now()
        client.lingerEnd = now + Self.nanoseconds(settings.lingeringTime)
        client.lingerIdleEnd = now + Self.nanoseconds(settings.lingeringTimeout)
        client.lingerBytesLeft = Self.lingeringByteLimit
        lingering.append(client)
        // What waits for libcurl will not be taken; what follows in the buffer is more of the body.
        client.bodyStart = client.bodyEnd
        if client.readsHeld {
            client.readsHeld = false
            epoll.want(client.fd, events: EpollSet.readable | (client.pendingOutput > 0 ? EpollSet.writable : 0))
        }
        parseBody(client)
    }

    /// What a lingering connection reads at the most before it closes anyway (64 MiB, besides `lingering_time`).
    static let lingeringByteLimit = 64 << 20

    private func dropBody(_ client: EngineClient, _ count: Int) {
        client.bodyStart = client.bodyEnd
        if client.parsed == client.filled { client.compactBody() }
        guard case .lingering = client.connection.state else { return }
        client.lingerBytesLeft -= count
        client.lingerIdleEnd = Self.now() + Self.nanoseconds(settings.lingeringTimeout)
        if client.lingerBytesLeft <= 0 { destroy(client) }
    }

    /// Closes lingering connections past their deadlines, and forgets the ones already closed.
    func expireLingering() {
        let now = Self.now()
        lingering.removeAll { client in
            guard client.isOpen, case .lingering = client.connection.state else { return true }
            guard client.lingerEnd <= now || client.lingerIdleEnd <= now else { return false }
            destroy(client)
            return true
        }
    }

    func requestShape(of client: EngineClient) -> EngineConnection.RequestShape {
        EngineConnection.RequestShape(
            keepAlive: true, isHead: client.request?.isHead ?? false, isHTTP10: client.request?.isHTTP10 ?? false)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(max(0, milliseconds(duration))) * 1_000_000
    }
}

extension EngineClient {
    /// The request's body is being read: for libcurl, or (lingering) to drop it.
    var readsBody: Bool {
        switch connection.state {
        case .lingering: return true
        case .awaitingUpstream, .relaying: return connection.upload.map { !$0.ended } ?? false
        case .awaitingHead, .closed: return false
        }
    }
}
#endif
