import CurlHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// The request phases (docs/architecture.md, "One proxied request") as one pure function of a request head and
/// a configuration snapshot: admission checks → control plane? → match route → authenticate → rewrite headers →
/// pick upstream. It touches no channel and no socket, so every rule is a row in `RequestPlannerTests`.
/// The deleted NIO path performed what it returns; the engine decides on bytes (`EngineRequestPlanner`) and uses
/// only `isIdempotent` from here: the rules and their tests stay as the specification until they move there.
struct RequestPlanner {
    let runtime: GatewayRuntime
    /// `http` or `https`: what the client spoke to us (`X-Forwarded-Proto`).
    let scheme: String
    /// The request's trace: its `traceparent` (and the caller's `tracestate`) go upstream in place of the client's.
    var trace: RequestSpan? = nil

    func plan(
        _ head: HTTPRequestHead, fields: RequestHeadFields, target: RequestTarget?, peerAddress: String?,
        requestID: String, now: Date
    ) -> RequestPlan {
        // CORS is decided from the head once, before anything else, so every answer below, the gateway's own
        // and the upstream's, carries what `[cors]` says.
        let cors = runtime.cors?.decide(
            CorsRequest(method: head.method, headers: head.headers, isWebSocketUpgrade: fields.isWebSocketUpgrade))
        var plan = planPhases(
            head, fields: fields, target: target, peerAddress: peerAddress, requestID: requestID, now: now, cors: cors)
        if let cors {
            if case .decorate(let answerFields) = cors {
                plan.cors = answerFields
            } else {
                plan.cors = CorsPolicy.AnswerFields(fields: [], isActive: true)
            }
        }
        return plan
    }

    private func planPhases(
        _ head: HTTPRequestHead, fields: RequestHeadFields, target: RequestTarget?, peerAddress: String?,
        requestID: String, now: Date, cors: CorsPolicy.Decision?
    ) -> RequestPlan {
        let config = runtime.config
        func answer(_ error: GatewayError) -> RequestPlan {
            RequestPlan(decision: .answer(error, realm: runtime.realm))
        }
        // RFC 9112 section 3.2: an HTTP/1.1 request carries exactly one Host. Without it, or with two,
        // route matching and the upstream could disagree about which host was meant.
        if head.version.major == 1 && head.version.minor >= 1 && fields.hostCount != 1 {
            return answer(.malformedRequest)
        }
        if let host = fields.host, !HostField.isValid(host) {
            return answer(.malformedRequest)
        }
        // RFC 9112 section 6.1: an HTTP/1.0 message with a Transfer-Encoding has faulty framing (an HTTP/1.0
        // hop before us could not have known chunking), 400 as nginx answers; a coding we do not implement is a 501.
        if fields.hasTransferCoding && head.version.major == 1 && head.version.minor == 0 {
            return answer(.malformedRequest)
        }
        if fields.hasUnsupportedTransferCoding {
            return answer(.unsupportedTransferCoding)
        }
        // Limits first: nothing else is worth doing for a request we will not take.
        if head.uri.utf8.count + fields.byteCount > config.server.maxHeaderBytes {
            return answer(.headersTooLarge)
        }
        if let length = fields.contentLength, length > config.server.maxBodyBytes.bytes {
            return answer(.bodyTooLarge)
        }
        guard let target else {
            return answer(.badRequestTarget)
        }

        // A preflight carries no credentials (Fetch standard, "CORS-preflight request"), so it is answered here, for
        // any path, before the control plane, routing and authentication; it never reaches an upstream.
        switch cors {
        case .answerPreflight(let corsFields):
            return RequestPlan(decision: .preflight(corsFields), route: "preflight")
        case .refusePreflight:
            return RequestPlan(decision: .answer(.originNotAllowed, realm: runtime.realm), route: "preflight")
        case .refuseWebSocket:
            return answer(.originNotAllowed)
        case .decorate, nil:
            break
        }

        if let control = runtime.control, control.handles(path: target.path) {
            return RequestPlan(decision: .control(control), route: "control")
        }

        // match route
        let host = runtime.routes.matchesHosts ? Self.hostWithoutPort(fields.host?[...]) : nil
        guard let route = runtime.routes.match(method: head.method.rawValue, path: target.path, host: host) else {
            return answer(.routeNotFound)
        }

        // A switch to WebSocket is only taken where the route allows it; other switches (h2c) are ignored, as the
        // Upgrade field is hop-by-hop, and the request is forwarded as a plain one.
        if fields.isWebSocketUpgrade && !route.websocket {
            return RequestPlan(decision: .answer(.webSocketNotEnabled, realm: runtime.realm), route: route.prefix)
        }
        var handshake: WebSocketHandshake?
        if fields.isWebSocketUpgrade {
            // RFC 6455 section 4.1: a GET over HTTP/1.1, without a body, with a version-13 key. Checked before any
            // upstream connection: the upstream is only ever asked for a real WebSocket handshake.
            guard head.method == .GET, head.version == .http1_1, !fields.hasBody else {
                return RequestPlan(decision: .answer(.malformedRequest, realm: runtime.realm), route: route.prefix)
            }
            guard let valid = WebSocketHandshake(head.headers) else {
                return RequestPlan(
                    decision: .answer(.webSocketHandshakeInvalid, realm: runtime.realm), route: route.prefix)
            }
            handshake = valid
        }

        // authenticate
        let identity: Identity?
        switch runtime.authenticator.authenticate(head.headers, mode: route.auth, now: now) {
        case .anonymous:
            identity = nil
        case .authenticated(let caller):
            identity = caller
        case .rejected(let rejection):
            return RequestPlan(decision: .answer(.authentication(rejection), realm: runtime.realm), route: route.prefix)
        }
        // Routes per app: a token of an app the route does not list is authentic but not allowed here (RFC 6750
        // section 3.1, insufficient_scope). An anonymous request on an optional route has no app to check.
        if let apps = route.apps, let identity, !apps.contains(identity.appid ?? "") {
            return RequestPlan(
                decision: .answer(.appNotAllowed, realm: runtime.realm), route: route.prefix, openid: identity.openid)
        }

        // rewrite headers
        let forwarding = ForwardingContext(
            peerAddress: peerAddress, scheme: scheme, requestID: requestID, traceparent: trace?.forwarded.headerValue,
            tracestate: trace?.tracestate)
        let headers = runtime.rewriter.upstreamHeaders(
            for: head.headers, identity: identity, forwardAuthorization: route.forwardAuthorization,
            context: forwarding)

        // pick upstream
        let pool = runtime.pools[route.index]
        guard let upstreamIndex = pool.pick() else {
            return RequestPlan(
                decision: .answer(.upstreamUnreachable, realm: runtime.realm), route: route.prefix,
                openid: identity?.openid)
        }
        let path = route.stripPrefix ? target.strippingPrefix(route.prefix) : target.path
        let upstream = pool.upstreams[upstreamIndex]
        if let handshake {
            let plan = TunnelPlan(
                route: route, pool: pool, upstreamIndex: upstreamIndex,
                request: tunnelRequest(
                    upstream: upstream, route: route, target: path, query: target.query, handshake: handshake,
                    headers: headers),
                identity: identity)
            return RequestPlan(decision: .tunnel(plan), route: route.prefix, openid: identity?.openid)
        }
        let hasBody = fields.hasBody
        var body = CurlRequestBody.none
        if hasBody {
            body = .streamed(length: fields.contentLength)
        } else if head.method == .POST || head.method == .PUT || head.method == .PATCH {
            // An explicit empty body, so the upstream sees Content-Length: 0 rather than a bodiless POST.
            body = .bytes(ByteBuffer())
        }
        let request = CurlRequest(
            method: head.method.rawValue,
            url: upstream.url(forPath: path, query: target.query),
            unixSocketPath: upstream.unixSocketPath,
            headers: headers,
            body: body,
            connectTimeoutMilliseconds: Int(route.connectTimeout.milliseconds),
            timeoutMilliseconds: Int(route.timeout.milliseconds),
            caFile: route.caFile,
            insecureSkipVerify: route.insecureSkipVerify)
        // We stream the body, so we want it now (RFC 9110 section 10.1.1); libcurl is told not to ask. An
        // HTTP/1.0 client's expectation is ignored, as that section requires: it could not read an interim answer.
        let sendsContinue = fields.expectsContinue && (head.version.major > 1 || head.version.minor >= 1)
        let plan = ForwardPlan(
            route: route, pool: pool, upstreamIndex: upstreamIndex, request: request, forwardedPath: path,
            forwardedQuery: target.query, hasBody: hasBody, sendsContinue: sendsContinue)
        return RequestPlan(decision: .forward(plan), route: route.prefix, openid: identity?.openid)
    }

    /// The connection to open and the upgrade request to write on it: the rewritten fields (identity injected,
    /// hop-by-hop and forged ones removed), the client's `Host` as on plain requests, and the switch asked for again,
    /// since `Connection` and `Upgrade` are hop-by-hop and the rewrite dropped them: to `websocket` alone, whatever
    /// else the client listed (an `h2c` beside it would let the upstream switch to a protocol the gateway never
    /// checked). The upstream's 101 must prove it read `handshake`.
    func tunnelRequest(
        upstream: UpstreamURL, route: RouteConfig, target path: Substring, query: Substring,
        handshake: WebSocketHandshake, headers: [(name: String, value: String)]
    ) -> CurlTunnelRequest {
        var head: [UInt8] = []
        head.reserveCapacity(512)
        func append(_ text: some StringProtocol) { head.append(contentsOf: text.utf8) }
        append("GET ")
        append(upstream.basePath)
        append(path)
        append(query)
        append(" HTTP/1.1\r\n")
        // The client's Host is passed on as on plain requests (libcurl's own gives way to it there); without one,
        // the upstream's.
        if !headers.contains(where: { ASCIICase.equals($0.name, "host") }) {
            append("Host: ")
            append(upstream.authority)
            append("\r\n")
        }
        for (name, value) in headers {
            append(name)
            append(": ")
            append(value)
            append("\r\n")
        }
        append("Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        let limits = runtime.config.websocket
        // RFC 6455 section 4.1, the client's checks of the server's answer (items 2-4 of its last list).
        let expectedSwitch = CurlSwitchExpectation(
            upgrade: "websocket",
            fields: [.init(name: "Sec-WebSocket-Accept", value: handshake.expectedAccept)])
        return CurlTunnelRequest(
            url: upstream.url(forPath: "/"), unixSocketPath: upstream.unixSocketPath, head: head,
            connectTimeoutMilliseconds: Int(route.connectTimeout.milliseconds),
            answerTimeoutMilliseconds: Int(route.timeout.milliseconds),
            idleTimeoutMilliseconds: Int(limits.idleTimeout.milliseconds), bufferLimit: limits.buffer.bytes,
            totalBufferLimit: limits.maxBuffered.bytes, expectedSwitch: expectedSwitch, caFile: route.caFile,
            insecureSkipVerify: route.insecureSkipVerify)
    }

    /// docs/configuration.md, "Forwarding": an idempotent request without a body that never reached its upstream is
    /// tried once more on another. Returns the plan for that second attempt, or nil when it must not be retried.
    static func retry(_ plan: ForwardPlan, attempts: Int, requestWasSent: Bool) -> ForwardPlan? {
        guard attempts == 1, !requestWasSent, !plan.hasBody, isIdempotent(plan.request.method),
            let next = plan.pool.pick(excluding: plan.upstreamIndex)
        else { return nil }
        var retried = plan
        let upstream = plan.pool.upstreams[next]
        retried.upstreamIndex = next
        retried.request.url = upstream.url(forPath: plan.forwardedPath, query: plan.forwardedQuery)
        retried.request.unixSocketPath = upstream.unixSocketPath
        return retried
    }

    static func isIdempotent(_ method: String) -> Bool {
        ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"].contains(method)
    }

    static func hostWithoutPort(_ host: Substring?) -> Substring? {
        guard let host else { return nil }
        let lower = host.lowercased()
        if lower.hasPrefix("[") { return Substring(lower.prefix(through: lower.firstIndex(of: "]") ?? lower.endIndex)) }
        if let colon = lower.lastIndex(of: ":") { return Substring(lower[..<colon]) }
        return Substring(lower)
    }
}
