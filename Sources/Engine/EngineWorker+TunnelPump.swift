#if canImport(Glibc)
import CCurl
import GatewayCore
import Glibc

/// The relay of an open tunnel and its end (issue 23).
extension EngineWorker {
    private var budgetLimit: Int { websocketConfig.maxBuffered.bytes }
    /// Bytes one side is relayed per event before the other tunnels get their turn. Only where epoll reports the
    /// rest (a plain socket): bytes already inside OpenSSL raise no event, so a TLS side is read until EAGAIN.
    private static let passBudget = 256 * 1024

    /// Reads the upstream while the client takes all of it; stops at EAGAIN, at the upstream's end, or when the client
    /// is slow (then what it did not take waits, and the upstream is not read until it has).
    func pumpFromUpstream(_ link: EngineTunnelLink) {
        let scratch = tunnels.scratch
        var relayed = 0
        while link.state.mayRead(.upstream, budgetRoom: noteBudget()) {
            if relayed >= Self.passBudget && link.easy == nil { break }
            let count: Int
            switch link.receive(into: scratch.baseAddress!, count: scratch.count) {
            case .done(let received): count = received
            case .again:
                updateTunnelInterest(link)
                return
            case .failed(let text):
                endTunnel(link, error: "upstream_broken: " + text)
                return
            }
            if count == 0 && link.firstEnd == nil { link.firstEnd = "upstream_closed" }
            guard perform(link, link.state.read(count, from: .upstream, now: Self.now())) else { return }
            if count == 0 { break }
            link.client.request?.bytesOut += count
            relayed += count
            guard let taken = writeClient(link, scratch.baseAddress!, count) else { return }
            if taken < count {
                link.toClient = Array(UnsafeRawBufferPointer(rebasing: scratch[taken..<count]))
                link.toClientSent = 0
                rebudget(link)
            }
            guard perform(link, link.state.wrote(from: .upstream, remaining: count - taken, now: Self.now())) else {
                return
            }
        }
        updateTunnelInterest(link)
    }

    /// Reads the client while the upstream takes all of it.
    func pumpFromClient(_ link: EngineTunnelLink) {
        let scratch = tunnels.scratch
        let client = link.client
        var relayed = 0
        while !link.refused, link.state.mayRead(.client, budgetRoom: noteBudget()) {
            if relayed >= Self.passBudget && !client.transport.hasPendingInput { break }
            let count = client.transport.read(client.fd, scratch.baseAddress!, scratch.count)
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { break }
                endTunnel(link, error: "client_closed")
                return
            }
            if count == 0 && link.firstEnd == nil { link.firstEnd = "client_closed" }
            guard perform(link, link.state.read(count, from: .client, now: Self.now())) else { return }
            if count == 0 { break }
            client.request?.bytesIn += count
            relayed += count
            guard let taken = sendUpstream(link, scratch.baseAddress!, count) else { return }
            if taken < count {
                link.toUpstream = Array(UnsafeRawBufferPointer(rebasing: scratch[taken..<count]))
                link.toUpstreamSent = 0
                rebudget(link)
            }
            guard perform(link, link.state.wrote(from: .client, remaining: count - taken, now: Self.now())) else {
                return
            }
        }
        updateTunnelInterest(link)
    }

    /// Writes what waits for the client. False: the tunnel ended.
    @discardableResult
    func flushToClient(_ link: EngineTunnelLink) -> Bool {
        let left = link.toClient.count - link.toClientSent
        guard left > 0 else { return true }
        let taken = link.toClient.withUnsafeBytes { bytes in
            writeClient(link, bytes.baseAddress! + link.toClientSent, left)
        }
        guard let taken else { return false }
        link.toClientSent += taken
        let remaining = left - taken
        if remaining == 0 {
            link.toClient = []
            link.toClientSent = 0
        }
        rebudget(link)
        guard perform(link, link.state.wrote(from: .upstream, remaining: remaining, now: Self.now())) else {
            return false
        }
        if remaining == 0 && link.state.mayRead(.upstream, budgetRoom: noteBudget()) { pumpFromUpstream(link) }
        updateTunnelInterest(link)
        return link.state.phase != .ended
    }

    /// Sends what waits for the upstream. False: the tunnel ended.
    @discardableResult
    func flushToUpstream(_ link: EngineTunnelLink) -> Bool {
        let left = link.toUpstream.count - link.toUpstreamSent
        guard left > 0 else { return true }
        let taken = link.toUpstream.withUnsafeBytes { bytes in
            sendUpstream(link, bytes.baseAddress! + link.toUpstreamSent, left)
        }
        guard let taken else { return false }
        link.toUpstreamSent += taken
        let remaining = left - taken
        if remaining == 0 {
            link.toUpstream = []
            link.toUpstreamSent = 0
        }
        rebudget(link)
        guard perform(link, link.state.wrote(from: .client, remaining: remaining, now: Self.now())) else {
            return false
        }
        if remaining == 0 && !link.refused && link.state.mayRead(.client, budgetRoom: noteBudget()) {
            pumpFromClient(link)
        }
        updateTunnelInterest(link)
        return link.state.phase != .ended
    }

    /// Bytes the client took (0 when it takes no more now); nil when the tunnel ended.
    private func writeClient(_ link: EngineTunnelLink, _ bytes: UnsafeRawPointer, _ count: Int) -> Int? {
        var taken = 0
        while taken < count {
            let written = link.client.transport.write(link.client.fd, bytes + taken, count - taken)
            if written > 0 {
                taken += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            if written < 0 && errno == EAGAIN { break }
            endTunnel(link, error: "client_closed")
            return nil
        }
        return taken
    }

    /// Bytes the upstream took; nil when the tunnel ended.
    private func sendUpstream(_ link: EngineTunnelLink, _ bytes: UnsafeRawPointer, _ count: Int) -> Int? {
        var taken = 0
        while taken < count {
            switch link.send(bytes + taken, count: count - taken) {
            case .done(let sent): taken += sent
            case .again: return taken
            case .failed(let text):
                endTunnel(link, error: "upstream_broken: " + text)
                return nil
            }
        }
        return taken
    }

    /// Performs a step of the state machine. False: the tunnel ended.
    private func perform(_ link: EngineTunnelLink, _ step: EngineTunnel.Step) -> Bool {
        switch step {
        case .none:
            return true
        case .shutWrite(.client):
            if link.refused {
                endTunnel(link, error: nil)
                return false
            }
            link.client.transport.endOutput()
            shutdown(link.client.fd, Int32(SHUT_WR))
            return true
        case .shutWrite(.upstream):
            shutdown(link.socket, Int32(SHUT_WR))
            return true
        case .close:
            endTunnel(link, error: nil)
            return false
        }
    }

    /// Whether the budget has room; a refusal is remembered, so room released later wakes the held tunnels.
    private func noteBudget() -> Bool {
        let room = tunnels.buffered < budgetLimit
        if !room { tunnels.budgetHeld = true }
        return room
    }

    /// The tunnel's bytes waiting for a side, counted in the worker's budget.
    func rebudget(_ link: EngineTunnelLink) {
        let held = link.toClient.count - link.toClientSent + link.toUpstream.count - link.toUpstreamSent
        tunnels.buffered += held - link.budgeted
        link.budgeted = held
        if tunnels.budgetHeld && tunnels.buffered < budgetLimit {
            tunnels.budgetHeld = false
            for other in tunnels.all.values where other !== link && other.state.phase == .open {
                updateTunnelInterest(other)
            }
        }
    }

    /// Watches each side for what the state machine wants of it (level-triggered: a side not to be read is not
    /// watched for reading, so it does not wake the loop).
    func updateTunnelInterest(_ link: EngineTunnelLink) {
        let room = tunnels.buffered < budgetLimit
        if link.socket >= 0 {
            var events: UInt32 = 0
            if link.state.mayRead(.upstream, budgetRoom: room) { events |= EpollSet.readable }
            if link.state.wantsWrite(.upstream) { events |= EpollSet.writable }
            if !(link.upstreamHungUp && events == 0) { epoll.want(link.socket, events: events) }
        }
        guard link.state.phase == .open else { return }
        var events: UInt32 = 0
        if !link.refused && link.state.mayRead(.client, budgetRoom: room) { events |= EpollSet.readable }
        if link.state.wantsWrite(.client) { events |= EpollSet.writable }
        if !(link.clientHungUp && events == 0) { epoll.want(link.client.fd, events: events) }
    }

    // MARK: - the end

    /// The upstream could not be reached or answered badly: the client gets the gateway's answer (502 or 504).
    func failOpening(_ link: EngineTunnelLink, _ error: GatewayError, reason: String?) {
        let client = link.client
        releaseTunnel(link)
        if let reason { client.request?.error = reason }
        guard client.isOpen, case .answer(let then) = client.connection.upstreamFailed() else { return }
        let shape = EngineConnection.RequestShape(keepAlive: false, isHead: false, isHTTP10: false)
        answer(client, error, then: then, shape: shape)
        markDirty(client)
    }

    /// The tunnel ended: its access-log line, then both connections close.
    func endTunnel(_ link: EngineTunnelLink, error: String?) {
        let client = link.client
        guard tunnels.all[ObjectIdentifier(link)] != nil else { return }
        // Switched (an ended phase too: the state machine ends itself on the last side's end).
        let opened = !link.refused && client.request?.status == 101
        releaseTunnel(link)
        if opened, let metrics = tunnels.metrics {
            let outcome: String
            if let error, error.hasPrefix("upstream_") {
                outcome = "upstream_error"
            } else {
                outcome = error ?? link.firstEnd ?? "client_closed"
            }
            metrics.recordTunnelEnd(
                outcome: outcome, bytesToUpstream: client.request?.bytesIn ?? 0,
                bytesToClient: client.request?.bytesOut ?? 0)
        }
        finish(client, error: error == "client_closed" ? nil : error)
        _ = client.connection.peerClosed()
        destroy(client)
    }

    /// Forgets the tunnel and closes its upstream connection (removing a connect-only handle closes it).
    func releaseTunnel(_ link: EngineTunnelLink) {
        guard tunnels.all.removeValue(forKey: ObjectIdentifier(link)) != nil else { return }
        link.state.end()
        tunnels.bySerial[link.serial] = nil
        if let handle = link.handle { tunnels.registry?.remove(handle) }
        if link.socket >= 0 { tunnels.bySocket[link.socket] = nil }
        if let openid = link.openid {
            tunnels.perUser[openid, default: 1] -= 1
            if tunnels.perUser[openid] == 0 { tunnels.perUser[openid] = nil }
        }
        link.toClient = []
        link.toUpstream = []
        link.toClientSent = 0
        link.toUpstreamSent = 0
        rebudget(link)
        link.client.tunnel = nil
        if let easy = link.easy {
            tunnels.connecting[easy] = nil
            link.easy = nil
            curl_multi_remove_handle(multi, easy)
            curl_easy_cleanup(easy)
        } else if link.socket >= 0 {
            epoll.forget(link.socket)
            close(link.socket)
        }
    }

    /// The registry closes the tunnel (its session was revoked; the drain ended), by mail from another thread.
    func closeTunnel(serial: UInt64, reason: String) {
        guard let link = tunnels.bySerial[serial] else { return }
        switch link.state.phase {
        case .open:
            endTunnel(link, error: reason)
        case .connecting, .sendingHead, .readingAnswer:
            let error: GatewayError =
                reason == "revoked" ? .authentication(.invalidToken(.revoked)) : .upstreamUnreachable
            failOpening(link, error, reason: reason == "revoked" ? nil : reason)
        case .ended:
            break
        }
    }

    /// A plain upstream's socket is taken over from libcurl once the tunnel is open, and its handle (some 6 KiB)
    /// freed: libcurl's close callback leaves the socket open for it. A TLS upstream keeps its handle, which holds
    /// the session.
    func detachUpstream(_ link: EngineTunnelLink) {
        guard let easy = link.easy, link.socket >= 0 else { return }
        tunnels.keptSocket = link.socket
        curl_multi_remove_handle(multi, easy)
        curl_easy_cleanup(easy)
        tunnels.keptSocket = -1
        link.easy = nil
    }

    static let tunnelCloseSocketCallback: curl_closesocket_callback = { context, fd in
        let worker = Unmanaged<EngineWorker>.fromOpaque(context!).takeUnretainedValue()
        if fd == worker.tunnels.keptSocket { return 0 }
        worker.epoll.drop(fd)
        worker.epoll.forget(fd)
        return close(fd)
    }

    /// Once a second: tunnels idle for `[websocket] idle_timeout`, and upgrades not answered in time.
    func sweepTunnels() {
        let now = Self.now()
        guard now &- tunnels.lastSweep >= 1_000_000_000 else { return }
        tunnels.lastSweep = now
        for link in Array(tunnels.all.values) {
            switch link.state.phase {
            case .sendingHead, .readingAnswer:
                if link.answerDeadline != 0 && now >= link.answerDeadline {
                    failOpening(link, .upstreamTimeout, reason: "upstream_timeout: the upgrade was not answered")
                }
            case .open:
                if link.state.idleExpired(now: now) { endTunnel(link, error: "idle_timeout") }
            case .connecting, .ended:
                break
            }
        }
    }
}
#endif
