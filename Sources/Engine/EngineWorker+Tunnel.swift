#if canImport(Glibc)
import CCurl
import Foundation
import GatewayCore
import Glibc
import NIOHTTP1

/// WebSocket tunnels in the worker (issue 23): the upgrade checked before authentication, the upstream connection
/// made by libcurl with `CURLOPT_CONNECT_ONLY` in the worker's multi handle, then both sockets in the worker's `epoll`
/// set and the bytes copied here (`curl_easy_recv`/`curl_easy_send` upstream, so a TLS upstream works), with no thread
/// and no queue per tunnel. `EngineTunnel` decides; this file moves bytes.
extension EngineWorker {
    enum UpgradeCheck {
        /// Not a WebSocket upgrade, or no route: the usual path answers it.
        case notWebSocket
        case refuse(GatewayError, route: String, path: Substring)
        case tunnel(WebSocketHandshake, RouteConfig)
    }

    var websocketConfig: WebSocketConfig { settings.runtime?.config.websocket ?? settings.websocket }

    /// A request head with `Connection: upgrade`. True: it was taken here (refused or tunnelled); false: it is a plain
    /// request (another protocol is never switched to, and its connection closes after the answer).
    func upgradeHead(
        _ client: EngineClient, head: RequestHead, shape: EngineConnection.RequestShape,
        body: EngineConnection.RequestBody, trace: RequestSpan?
    ) -> Bool {
        let headers = Self.headers(of: head, in: client.input)
        let check = Self.upgradeCheck(head, headers: headers, in: client.input, routes: settings.planner.routes)
        let now = Date()
        switch check {
        case .notWebSocket:
            return false
        case .refuse(let error, let route, let path):
            let requestID = RequestID.accept(headers.first(name: "X-Request-Id")?[...]) ?? RequestID.generate()
            client.request = InFlightRequest(
                requestID: requestID, method: head.method, path: path, route: route, upstream: nil, openid: nil,
                isHead: false, isHTTP10: shape.isHTTP10, startedAt: now)
            client.request?.trace = trace
            if case .answer(let then) = client.connection.headReceived(shape, forward: false, closes: true, body: body)
            {
                answer(client, error, then: then, shape: shape)
            }
            return true
        case .tunnel(let handshake, let route):
            switch settings.planner.plan(head, in: client.input, rules: &rules, now: now) {
            case .answer(let error, let requestID, let path, let routePrefix):
                client.request = InFlightRequest(
                    requestID: requestID, method: head.method, path: path, route: routePrefix, upstream: nil,
                    openid: nil, isHead: false, isHTTP10: false, startedAt: now)
                client.request?.trace = trace
                if case .answer(let then) = client.connection.headReceived(shape, forward: false, closes: true) {
                    answer(client, error, then: then, shape: shape)
                }
            case .forward(let plan):
                client.request = InFlightRequest(
                    requestID: plan.requestID, method: head.method, path: plan.target.path, route: plan.routePrefix,
                    upstream: plan.upstream.description, openid: plan.claims?.subject, isHead: false,
                    isHTTP10: false, startedAt: now)
                client.request?.trace = trace
                openTunnel(client, plan: plan, head: head, handshake: handshake, route: route, shape: shape)
            }
            return true
        }
    }

    /// RFC 6455 section 4.1, before any upstream connection and before authentication (issue 22): the route must
    /// allow WebSocket, the request must be a bodiless HTTP/1.1 GET with one version-13 key.
    static func upgradeCheck(
        _ head: RequestHead, headers: HTTPHeaders, in buffer: UnsafeRawPointer, routes: RouteTable
    ) -> UpgradeCheck {
        let asksWebSocket = headers["Upgrade"].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "websocket" }
        }
        guard asksWebSocket,
            let target = RequestTarget(String(decoding: head.target.bytes(in: buffer), as: UTF8.self))
        else { return .notWebSocket }
        let host = routes.matchesHosts ? headers.first(name: "Host").map { Self.hostName($0[...]) } : nil
        guard let route = routes.match(method: head.method, path: target.path, host: host) else { return .notWebSocket }
        guard route.websocket else { return .refuse(.webSocketNotEnabled, route: route.prefix, path: target.path) }
        guard head.method == "GET", !head.isHTTP10, head.versionMajor == 1, !head.hasBody else {
            return .refuse(.malformedRequest, route: route.prefix, path: target.path)
        }
        guard let handshake = WebSocketHandshake(headers) else {
            return .refuse(.webSocketHandshakeInvalid, route: route.prefix, path: target.path)
        }
        return .tunnel(handshake, route)
    }

    /// The upgrade request's fields as `HTTPHeaders`, for `WebSocketHandshake` (upgrades only: never on the hot path).
    static func headers(of head: RequestHead, in buffer: UnsafeRawPointer) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for field in head.fields {
            headers.add(
                name: String(decoding: field.name.bytes(in: buffer), as: UTF8.self),
                value: String(decoding: field.value.bytes(in: buffer), as: UTF8.self))
        }
        return headers
    }

    static func hostName(_ value: Substring) -> Substring {
        var name = value
        if let colon = name.lastIndex(of: ":"), !name.hasSuffix("]") { name = name[..<colon] }
        return name.lowercased()[...]
    }

    // MARK: - opening

    /// Admits the tunnel (`[websocket] max_tunnels`: 503; `max_tunnels_per_user`: 429), then has libcurl connect. The
    /// client is not read until the upstream has switched.
    private func openTunnel(
        _ client: EngineClient, plan: ForwardPlan, head: RequestHead, handshake: WebSocketHandshake,
        route: RouteConfig, shape: EngineConnection.RequestShape
    ) {
        let limits = websocketConfig
        let openid = plan.claims?.subject
        var refusal: GatewayError?
        let serial = tunnels.nextSerial
        tunnels.nextSerial += 1
        let handle = EngineTunnelHandle(serial: serial, mailbox: mailbox)
        if let registry = tunnels.registry {
            // Recorded first, checked after (`TunnelRegistry.admit`): a logout landing meanwhile still closes it.
            switch registry.admit(
                handle, openid: openid, jti: plan.claims?.jti, sessionID: plan.claims?.sessionID,
                limit: limits.maxTunnels, perUserLimit: limits.maxTunnelsPerUser)
            {
            case .admitted: break
            case .full: refusal = .tooManyTunnels
            case .userFull: refusal = .tooManyTunnelsForUser
            case .revoked: refusal = .authentication(.invalidToken(.revoked))
            }
        } else if tunnels.all.count >= limits.maxTunnels {
            refusal = .tooManyTunnels
        } else if let openid, tunnels.perUser[openid, default: 0] >= limits.maxTunnelsPerUser {
            refusal = .tooManyTunnelsForUser
        }
        let easy = refusal == nil ? curl_easy_init() : nil
        guard let easy else {
            if refusal == nil { tunnels.registry?.remove(handle) }
            let error = refusal ?? .internalError("curl_easy_init failed")
            if case .answer(let then) = client.connection.headReceived(shape, forward: false, closes: true) {
                answer(client, error, then: then, shape: shape)
            }
            return
        }
        configureTunnel(easy, plan: plan, route: route)
        var lines = UpstreamRequestLines()
        defer { lines.deallocate() }
        lines.build(
            head: head, rules: rules, buffer: client.input, plan: plan, identity: settings.identity, peer: client.peer,
            trustedPeer: isTrusted(client), trace: client.request?.trace, overTLS: client.transport.isTLS)
        let upgrade = Self.upgradeRequest(plan: plan, lines: lines)
        let upstreamTLS = plan.upstream.scheme.rawValue == "https"
        let state = EngineTunnel(
            headLength: upgrade.count, idleTimeout: Self.nanoseconds(limits.idleTimeout),
            upstreamHalfCloses: !upstreamTLS, now: Self.now())
        let link = EngineTunnelLink(
            client: client, easy: easy, state: state, head: upgrade, accept: handshake.expectedAccept)
        link.openid = openid
        link.serial = serial
        link.handle = tunnels.registry == nil ? nil : handle
        tunnels.bySerial[serial] = link
        // A route without a timeout of its own still bounds the wait for the answer, by the idle timeout.
        let answerTimeout = route.timeout > .zero ? route.timeout : limits.idleTimeout
        link.answerTimeout = Self.nanoseconds(answerTimeout)
        _ = client.connection.headReceived(shape, forward: true)
        client.tunnel = link
        client.readsHeld = true
        epoll.want(client.fd, events: 0)
        tunnels.all[ObjectIdentifier(link)] = link
        if let openid { tunnels.perUser[openid, default: 0] += 1 }
        tunnels.connecting[easy] = link
        // Runs at the next CURL_SOCKET_TIMEOUT action: adding sets libcurl's timer to zero.
        if curl_multi_add_handle(multi, easy) != CURLM_OK {
            failOpening(link, .internalError("curl_multi_add_handle failed"), reason: nil)
        }
    }

    private func configureTunnel(_ easy: UnsafeMutableRawPointer, plan: ForwardPlan, route: RouteConfig) {
        let workerContext = Unmanaged.passUnretained(self).toOpaque()
        _ = gw_easy_setopt_string(easy, CURLOPT_URL, plan.upstream.url(forPath: "/"))
        _ = gw_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        // 1, not 2: libcurl only connects (and handshakes TLS); the upgrade request is ours to write.
        _ = gw_easy_setopt_long(easy, CURLOPT_CONNECT_ONLY, 1)
        _ = gw_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = gw_easy_setopt_string(easy, CURLOPT_NOPROXY, "*")
        // ALPN offers http/1.1 only: an upstream that picked h2 would not understand the upgrade request.
        _ = gw_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        _ = gw_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(plan.connectTimeout))
        _ = gw_easy_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
        // curl_easy_recv reads into the worker's scratch buffer, never libcurl's own: the smallest one libcurl allows
        // keeps an idle tunnel's handle small.
        _ = gw_easy_setopt_long(easy, CURLOPT_BUFFERSIZE, 1024)
        if let path = plan.upstream.unixSocketPath { _ = gw_easy_setopt_string(easy, CURLOPT_UNIX_SOCKET_PATH, path) }
        if let caFile = route.caFile { _ = gw_easy_setopt_string(easy, CURLOPT_CAINFO, caFile) }
        if route.insecureSkipVerify {
            _ = gw_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0)
            _ = gw_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0)
        }
        // The socket is opened and closed through the worker, which keeps its epoll registry right.
        _ = gw_easy_setopt_opensocket(easy, EngineWorker.openSocketCallback)
        _ = gw_easy_setopt_ptr(easy, CURLOPT_OPENSOCKETDATA, workerContext)
        _ = gw_easy_setopt_closesocket(easy, EngineWorker.tunnelCloseSocketCallback)
        _ = gw_easy_setopt_ptr(easy, CURLOPT_CLOSESOCKETDATA, workerContext)
    }

    /// The upgrade request: the request line to the upstream's path, the fields as the rewrite leaves them
    /// (`lines`, built from the head: identity injected, hop-by-hop and forged ones removed, the client's Host), then
    /// the switch asked for again, to `websocket` alone, as `Connection` and `Upgrade` are hop-by-hop.
    static func upgradeRequest(plan: ForwardPlan, lines: UpstreamRequestLines) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        func append(_ text: some StringProtocol) { out.append(contentsOf: text.utf8) }
        append("GET ")
        append(plan.upstream.basePath)
        append(plan.stripPrefix ? plan.target.strippingPrefix(plan.routePrefix) : plan.target.path)
        append(plan.target.query)
        append(" HTTP/1.1\r\n")
        var node = lines.list
        var sawHost = false
        while let current = node {
            node = current.pointee.next
            guard let data = current.pointee.data else { continue }
            var line = String(cString: data)
            // libcurl's spellings: `Name:` removes a field it would add (nothing to send), `Name;` is an empty one.
            if line.hasSuffix(":") { continue }
            if line.hasSuffix(";") { line = String(line.dropLast()) + ":" }
            if line.lowercased().hasPrefix("host:") { sawHost = true }
            append(line)
            append("\r\n")
        }
        if !sawHost {
            append("Host: ")
            append(plan.upstream.authority)
            append("\r\n")
        }
        append("Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        return out
    }
}
#endif
