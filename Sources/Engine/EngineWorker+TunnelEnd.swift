#if canImport(Glibc)
import CCurl
import GatewayCore
import Glibc

/// The end of a tunnel (issue 23): refused or failed while opening, ended by either side, closed by the registry or
/// a deadline; and the upstream socket taken over from libcurl once open.
extension EngineWorker {
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
        link.toClient.clear()
        link.toUpstream.clear()
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
