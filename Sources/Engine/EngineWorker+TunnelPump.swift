#if canImport(Glibc)
import GatewayCore
import Glibc

/// The relay of an open tunnel (issue 23), one path for both directions: a side is read into the worker's scratch
/// buffer and written to the other at once; only what the other did not take is kept (`EngineTunnelBacklog`), counted
/// in the tunnels' budget, and the side it came from is not read until it is taken (`EngineTunnel.mayRead`).
extension EngineWorker {
    var tunnelBudgetLimit: Int { websocketConfig.maxBuffered.bytes }
    /// Bytes one side is relayed per event before the other tunnels get their turn. Only where epoll reports the
    /// rest (a plain socket): bytes already inside OpenSSL raise no event, so such a side is read until EAGAIN.
    private static let passBudget = 256 * 1024

    /// Reads `side` while the other side takes all of it; stops at EAGAIN, at the side's end, when the other side is
    /// slow (then what it did not take waits), or when the tunnels' budget is spent.
    func pump(_ link: EngineTunnelLink, from side: EngineTunnel.Side) {
        let scratch = tunnels.scratch
        let other = side.other
        var relayed = 0
        while mayRelay(link, from: side) {
            if relayed >= Self.passBudget && !link.hidesInput(side) { break }
            let count: Int
            switch link.receive(from: side, into: scratch.baseAddress!, count: scratch.count) {
            case .done(let received): count = received
            case .again:
                updateTunnelInterest(link)
                return
            case .failed(let text):
                endTunnel(link, error: Self.tunnelFailure(of: side, text))
                return
            }
            if count == 0 && link.firstEnd == nil {
                link.firstEnd = side == .client ? "client_closed" : "upstream_closed"
            }
            guard perform(link, link.state.read(count, from: side, now: passTime)) else { return }
            if count == 0 { break }
            if side == .client {
                link.client.request?.bytesIn += count
            } else {
                link.client.request?.bytesOut += count
            }
            relayed += count
            guard let taken = write(link, to: other, scratch.baseAddress!, count) else { return }
            if taken < count {
                link.withBacklog(toward: other) { $0.hold(UnsafeRawBufferPointer(rebasing: scratch[taken..<count])) }
                rebudget(link)
            }
            guard perform(link, link.state.wrote(from: side, remaining: count - taken, now: passTime)) else {
                return
            }
            // Less than asked for: the socket is drained for now, and the epoll set (level-triggered) reports it
            // again when more comes. Reading on to EAGAIN cost one more system call per message. A TLS side may
            // hold decrypted bytes epoll cannot see, so it is read until it says so.
            if count < scratch.count && !link.hidesInput(side) { break }
        }
        updateTunnelInterest(link)
    }

    /// Writes what waits for `side`; once all of it is out, the side it came from is read again. False: the tunnel
    /// ended.
    @discardableResult
    func flush(_ link: EngineTunnelLink, toward side: EngineTunnel.Side) -> Bool {
        // A copy: the array's storage stays alive whatever the write does to the link (its end clears the backlog).
        let backlog = link.backlog(toward: side)
        guard backlog.count > 0 else { return true }
        let taken = backlog.bytes.withUnsafeBytes { bytes in
            write(link, to: side, bytes.baseAddress! + backlog.sent, backlog.count)
        }
        guard let taken else { return false }
        link.withBacklog(toward: side) { $0.took(taken) }
        let remaining = backlog.count - taken
        rebudget(link)
        let source = side.other
        guard perform(link, link.state.wrote(from: source, remaining: remaining, now: passTime)) else {
            return false
        }
        if remaining == 0 && mayRelay(link, from: source) { pump(link, from: source) }
        updateTunnelInterest(link)
        return link.state.phase != .ended
    }

    /// Bytes `side` took (0 when it takes no more now); nil when the tunnel ended.
    private func write(
        _ link: EngineTunnelLink, to side: EngineTunnel.Side, _ bytes: UnsafeRawPointer, _ count: Int
    ) -> Int? {
        var taken = 0
        while taken < count {
            switch link.send(to: side, bytes + taken, count: count - taken) {
            case .done(let sent): taken += sent
            case .again: return taken
            case .failed(let text):
                endTunnel(link, error: Self.tunnelFailure(of: side, text))
                return nil
            }
        }
        return taken
    }

    /// The access log's error for a side that failed: a client's is its leaving, an upstream's says what broke.
    private static func tunnelFailure(of side: EngineTunnel.Side, _ text: String) -> String {
        side == .client ? "client_closed" : "upstream_broken: " + text
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

    // MARK: - budget and interest

    /// Whether `side` may be read now: the state machine allows it (a refused upgrade's client is never read) and, for
    /// an open tunnel, the tunnels' budget has room.
    func mayRelay(_ link: EngineTunnelLink, from side: EngineTunnel.Side) -> Bool {
        !(side == .client && link.refused) && link.state.mayRead(side, budgetRoom: budgetRoom())
    }

    /// Whether the budget has room; a refusal marks the worker, so room released later (by any worker) wakes it.
    private func budgetRoom() -> Bool {
        let limit = tunnelBudgetLimit
        return tunnels.budget.hasRoom(limit: limit) || tunnels.budget.markWaiting(tunnels.budgetBit, limit: limit)
    }

    /// The tunnel's bytes waiting for a side, counted in the budget; room brought back wakes the workers waiting.
    func rebudget(_ link: EngineTunnelLink) {
        let held = link.toClient.count + link.toUpstream.count
        let delta = held - link.budgeted
        guard delta != 0 else { return }
        link.budgeted = held
        let waiting = tunnels.budget.change(by: delta, limit: tunnelBudgetLimit)
        guard waiting != 0 else { return }
        if let pool {
            pool.wakeTunnels(waiting, except: tunnels.budgetBit)
        }
        if waiting & tunnels.budgetBit != 0 { tunnelBudgetRoomReturned() }
    }

    /// Room came back in the budget: every open tunnel of the worker is watched again for what it may do.
    func tunnelBudgetRoomReturned() {
        for link in tunnels.all.values where link.state.phase == .open {
            // A TLS client's bytes already decrypted raise no epoll event: they are read now.
            if link.client.transport.hasPendingInput && mayRelay(link, from: .client) {
                pump(link, from: .client)
            } else {
                updateTunnelInterest(link)
            }
        }
    }

    /// Watches each side for what the state machine wants of it (level-triggered: a side not to be read is not
    /// watched for reading, so it does not wake the loop).
    func updateTunnelInterest(_ link: EngineTunnelLink) {
        if link.socket >= 0 {
            var events: UInt32 = 0
            if mayRelay(link, from: .upstream) { events |= EpollSet.readable }
            if link.state.wantsWrite(.upstream) { events |= EpollSet.writable }
            if !(link.upstreamHungUp && events == 0) { epoll.want(link.socket, events: events) }
        }
        guard link.state.phase == .open else { return }
        var events: UInt32 = 0
        if mayRelay(link, from: .client) { events |= EpollSet.readable }
        if link.state.wantsWrite(.client) { events |= EpollSet.writable }
        if !(link.clientHungUp && events == 0) { epoll.want(link.client.fd, events: events) }
    }
}
#endif
