#if canImport(Glibc)
import CCurl
import GatewayCore
import Glibc

/// A tunnel's bytes (issue 23): the upgrade request out and its answer in, then the relay both ways. A read goes into
/// the worker's scratch buffer and straight to the other side; only what that side does not take is kept, and the side
/// it came from is not read until it is taken (`EngineTunnel.mayRead`).
extension EngineWorker {
    /// libcurl finished connecting (or failed to): the handle stays in the multi handle, since removing a
    /// connect-only handle closes its connection.
    func tunnelConnected(_ link: EngineTunnelLink, result: CURLcode) {
        guard let easy = link.easy else { return }
        tunnels.connecting[easy] = nil
        guard result == CURLE_OK else {
            let error: GatewayError = result == CURLE_OPERATION_TIMEDOUT ? .upstreamTimeout : .upstreamUnreachable
            failOpening(link, error, reason: "upstream_unreachable: " + String(cString: curl_easy_strerror(result)))
            return
        }
        var socket: curl_socket_t = -1
        _ = gw_easy_getinfo_socket(easy, CURLINFO_ACTIVESOCKET, &socket)
        guard socket >= 0 else {
            failOpening(link, .upstreamUnreachable, reason: "upstream_unreachable: no socket after connecting")
            return
        }
        link.socket = socket
        var entry = epoll[socket]
        entry.kind = .tunnel
        epoll[socket] = entry
        tunnels.bySocket[socket] = link
        let now = Self.now()
        link.state.connected(now: now)
        link.answerDeadline = link.answerTimeout > 0 ? now + link.answerTimeout : 0
        sendUpgrade(link)
    }

    /// The upstream's socket reported `flags`.
    func tunnelUpstreamEvent(_ fd: Int32, _ flags: UInt32) {
        guard let link = tunnels.bySocket[fd] else {
            epoll.drop(fd)
            return
        }
        switch link.state.phase {
        case .sendingHead: sendUpgrade(link)
        case .readingAnswer: readAnswer(link)
        case .open:
            if flags & EpollSet.writable != 0 && link.state.wantsWrite(.upstream) {
                guard flush(link, toward: .upstream) else { return }
            }
            if mayRelay(link, from: .upstream) {
                pump(link, from: .upstream)
            } else if flags & (EpollSet.hangUp | EpollSet.error) != 0 {
                link.upstreamHungUp = true
                epoll.drop(fd)
            }
        case .connecting, .ended: break
        }
    }

    /// The client's socket reported `flags`.
    func tunnelClientEvent(_ link: EngineTunnelLink, _ flags: UInt32) {
        let client = link.client
        guard link.state.phase == .open else {
            // Opening: the client is not read; its hang-up ends the request as any other's.
            if flags & (EpollSet.hangUp | EpollSet.error) != 0 { peerClosed(client) }
            return
        }
        if flags & EpollSet.writable != 0 && link.state.wantsWrite(.client) {
            guard flush(link, toward: .client) else { return }
        }
        if mayRelay(link, from: .client) {
            pump(link, from: .client)
        } else if flags & (EpollSet.hangUp | EpollSet.error) != 0 {
            if link.refused {
                endTunnel(link, error: nil)
                return
            }
            link.clientHungUp = true
            epoll.drop(client.fd)
        }
    }

    // MARK: - opening

    private func sendUpgrade(_ link: EngineTunnelLink) {
        while case .sendingHead(let sent) = link.state.phase {
            let result = link.head.withUnsafeBytes { bytes in
                link.send(bytes.baseAddress! + sent, count: bytes.count - sent)
            }
            let count: Int
            switch result {
            case .done(let taken): count = taken
            case .again:
                updateTunnelInterest(link)
                return
            case .failed(let text):
                failOpening(link, .upstreamUnreachable, reason: "upstream_unreachable: sending the upgrade: \(text)")
                return
            }
            if link.state.headSent(count) {
                link.head = []
                readAnswer(link)
                return
            }
        }
        updateTunnelInterest(link)
    }

    private func readAnswer(_ link: EngineTunnelLink) {
        while link.state.phase == .readingAnswer, var answer = link.answer {
            let count: Int
            // Small reads: what follows the 101 in the same read is held before any limit applies.
            switch link.receive(into: tunnels.scratch.baseAddress!, count: 4096) {
            case .done(let received): count = received
            case .again:
                updateTunnelInterest(link)
                return
            case .failed(let text):
                failOpening(link, .upstreamBroken, reason: "upstream_broken: reading the upgrade answer: \(text)")
                return
            }
            let outcome =
                count == 0
                ? answer.finish() : answer.feed(UnsafeRawBufferPointer(rebasing: tunnels.scratch[..<count]))
            link.answer = answer
            switch outcome {
            case .needMore:
                continue
            case .invalid(let reason):
                failOpening(link, .upstreamBroken, reason: "upstream_broken: \(reason)")
                return
            case .switched(let headLength):
                let requestID = link.client.request?.requestID ?? ""
                link.toClient.hold(TunnelAnswer.switchingHead(answer.bytes[..<headLength], requestID: requestID))
                link.toClient.hold(answer.bytes[headLength...])
                link.client.request?.status = 101
                link.client.request?.bytesOut = answer.bytes.count - headLength
                opened(link)
                return
            case .refused(let status):
                // Its head rewritten like any answer's, its body passed on as it comes; the client is not read,
                // and the tunnel ends with the upstream's answer.
                link.refused = true
                let headLength = TunnelAnswer.headEnd(answer.bytes, from: 0) ?? answer.bytes.count
                link.toClient.hold(
                    TunnelAnswer.refusedHead(
                        answer.bytes[..<headLength], requestID: link.client.request?.requestID ?? ""))
                link.toClient.hold(answer.bytes[headLength...])
                link.client.request?.status = status
                opened(link)
                return
            }
        }
        updateTunnelInterest(link)
    }

    /// The answer is in: the relay starts with it, and with what the client sent after its request head.
    private func opened(_ link: EngineTunnelLink) {
        let client = link.client
        link.answer = nil
        if link.state.upstreamHalfCloses { detachUpstream(link) }
        link.state.switched(leftover: link.toClient.count, now: passTime)
        rebudget(link)
        client.readsHeld = false
        if !link.refused && client.filled > client.parsed {
            let count = client.filled - client.parsed
            link.toUpstream.hold(UnsafeRawBufferPointer(start: client.input + client.parsed, count: count))
            client.parsed = client.filled
            client.request?.bytesIn += count
            _ = link.state.read(count, from: .client, now: passTime)
            _ = link.state.wrote(from: .client, remaining: count, now: passTime)
            rebudget(link)
            guard flush(link, toward: .upstream) else { return }
        }
        // Anything the connection had queued before the switch goes first, then its buffers are released.
        if client.pendingOutput > 0 {
            link.toClient.holdFirst(client.output[client.outputSent...])
            rebudget(link)
        }
        client.releaseBuffersForTunnel()
        guard flush(link, toward: .client) else { return }
        // A TLS client's bytes already decrypted raise no epoll event: read until EAGAIN now (the budget permitting).
        if !link.refused && link.state.mayRead(.client) {
            pump(link, from: .client)
            return
        }
        updateTunnelInterest(link)
    }
}
#endif
