import Foundation
import GatewayCore
import Tokens

/// The request phases of the slice on a byte view (issue 23): admission (the target), route, the cached token check,
/// and the field rules the rewrite will apply. Uses the gateway's own pieces as they are: `RequestTarget`,
/// `RouteTable`, `CachingTokenVerifier` over the key ring built at config load, `HeaderRewriter`'s rules.
///
/// A class, immutable: the worker holds it in its settings (a stored property of the worker), and as a struct every
/// `settings.planner.plan(...)` copied the whole of it first, a retain per member (profile: `outlined init with copy
/// of EngineRequestPlanner` under `requestHead`).
final class EngineRequestPlanner: Sendable {
    let routes: RouteTable
    let verifier: any TokenVerifier
    let rewriter: HeaderRewriter
    /// The snapshot's pools, by `RouteConfig.index`; empty: each route's first upstream (unit tests).
    let pools: [UpstreamPool]
    /// `[cors]` as decisions (`EngineRequestPlanner+Cors`); nil: CORS off.
    let cors: CorsPolicy?
    /// `[server] max_header_bytes`, counted over the target, names and values, 4 bytes a line;
    /// the read buffer has room beyond it, so a head just over the limit is parsed, then answered 431.
    let maxHeaderBytes: Int

    init(
        routes: RouteTable, verifier: any TokenVerifier, rewriter: HeaderRewriter, pools: [UpstreamPool] = [],
        cors: CorsPolicy? = nil, maxHeaderBytes: Int = Int.max
    ) {
        self.routes = routes
        self.verifier = verifier
        self.rewriter = rewriter
        self.pools = pools
        self.cors = cors
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Decides for `head`, whose spans point into `buffer`; `rules` receives each field's rule, in order, for the
    /// rewrite to reuse (kept by the caller, so no array per request).
    func plan(
        _ head: RequestHead, in buffer: UnsafeRawPointer, rules: inout [RequestFieldRule], now: Date
    ) -> RequestDecision {
        plan(head, in: buffer, target: Self.target(of: head, in: buffer), rules: &rules, now: now)
    }

    /// The head's request-target, parsed once per request: the worker asks the control endpoints with it before it
    /// plans (one `String` per request rather than two); nil when it is not one `RequestTarget` accepts.
    static func target(of head: RequestHead, in buffer: UnsafeRawPointer) -> RequestTarget? {
        RequestTarget(String(decoding: head.target.bytes(in: buffer), as: UTF8.self))
    }

    /// As `plan(_:in:rules:now:)`, with the head's `target` already parsed (`target(of:in:)`). `consuming`: the
    /// worker's last use of it is here, so it moves into the plan rather than being copied (a retain per `Substring`)
    /// and destroyed by the worker afterwards.
    func plan(
        _ head: RequestHead, in buffer: UnsafeRawPointer, target: consuming RequestTarget?,
        rules: inout [RequestFieldRule], now: Date
    ) -> RequestDecision {
        rules.removeAll(keepingCapacity: true)
        var authorization: ByteSpan?
        var authorizationCount = 0
        var host: ByteSpan?
        var hostCount = 0
        var headBytes = head.target.count
        var clientRequestID: ByteSpan?
        for field in head.fields {
            let rule = rewriter.requestFieldRule(name: field.name.bytes(in: buffer))
            headBytes += field.name.count + field.value.count + 4
            rules.append(rule)
            switch rule {
            case .authorization:
                authorization = authorization ?? field.value
                authorizationCount += 1
            case .host:
                host = host ?? field.value
                hostCount += 1
            case .requestID: clientRequestID = clientRequestID ?? field.value
            case .forward, .drop, .connection: break
            }
        }
        let requestID =
            clientRequestID.flatMap { RequestID.accept(Self.substring($0, in: buffer)) } ?? RequestID.generate()
        // RFC 9112 section 3.2: an HTTP/1.1 request carries a Host, no request more than one (HTTP/1.0 included), and
        // one no URI could carry is refused: route matching and the upstream could otherwise disagree about which
        // host was meant.
        if hostCount > 1 || (head.versionMinor >= 1 && hostCount == 0)
            || (host.map { !HostField.isValid(bytes: $0.bytes(in: buffer)) } ?? false)
        {
            return .answer(.malformedRequest, requestID: requestID, path: "", route: nil)
        }
        if headBytes > maxHeaderBytes {
            return .answer(.headersTooLarge, requestID: requestID, path: "", route: nil)
        }
        // Moved out of the parameter, not copied from it: the copy left the optional to be destroyed as well, at
        // the end of every plan (profile: `outlined destroy of RequestTarget?` under `plan`, 0.14%).
        guard let target = consume target else {
            return .answer(.badRequestTarget, requestID: requestID, path: "", route: nil)
        }
        let hostName = routes.matchesHosts ? host.map { Self.hostName(Self.substring($0, in: buffer)) } : nil
        guard let route = routes.match(method: head.method, path: target.path, host: hostName) else {
            return .answer(.routeNotFound, requestID: requestID, path: target.path, route: nil)
        }
        var claims: VerifiedClaims?
        if route.auth != .none {
            switch authenticate(authorization, count: authorizationCount, in: buffer, now: now, into: &claims) {
            case nil: break
            case .missingToken? where route.auth == .optional: break
            case let rejection?:
                return .answer(
                    .authentication(rejection), requestID: requestID, path: target.path, route: route.prefix)
            }
            // Routes per app: RFC 6750 section 3.1 insufficient_scope, before any upstream. The claims are read in
            // place (`if let claims` copied them, a retain per field).
            if let apps = route.apps, claims != nil, !apps.contains(claims?.appid ?? "") {
                return .answer(.appNotAllowed, requestID: requestID, path: target.path, route: route.prefix)
            }
        }
        // Pick upstream: round robin over the route's pool, skipping ejected ones.
        var upstreamIndex = 0
        let pool = route.index < pools.count ? pools[route.index] : nil
        if let pool {
            guard let picked = pool.pick() else {
                return .answer(.upstreamUnreachable, requestID: requestID, path: target.path, route: route.prefix)
            }
            upstreamIndex = picked
        }
        // Built in the answer, not in a variable then moved into it: the plan is a few hundred bytes.
        return .forward(
            ForwardPlan(
                routePrefix: route.prefix, stripPrefix: route.stripPrefix,
                forwardAuthorization: route.forwardAuthorization, connectTimeout: route.connectTimeout,
                timeout: route.timeout, upstream: pool?.upstreams[upstreamIndex] ?? route.upstreams[0], target: target,
                claims: claims, requestID: requestID, host: host, pool: pool, upstreamIndex: upstreamIndex,
                caFile: route.caFile, insecureSkipVerify: route.insecureSkipVerify))
    }

    /// The head's own refusal, before anything is decided from it: more than one Host, none in HTTP/1.1 (RFC 9112
    /// section 3.2, a MUST for every request), or over `max_header_bytes`. `plan` checks both in its one pass over the
    /// fields; the answers decided before it (a CORS preflight, the control plane) ask this first and leave a head it
    /// refuses to `plan`, which answers it.
    func admissionRefusal(_ head: RequestHead, in buffer: UnsafeRawPointer) -> GatewayError? {
        var hostCount = 0
        var headBytes = head.target.count
        for field in head.fields {
            headBytes += field.name.count + field.value.count + 4
            guard rewriter.requestFieldRule(name: field.name.bytes(in: buffer)) == .host else { continue }
            hostCount += 1
            if !HostField.isValid(bytes: field.value.bytes(in: buffer)) { return .malformedRequest }
        }
        if hostCount > 1 || (head.versionMinor >= 1 && hostCount == 0) { return .malformedRequest }
        return headBytes > maxHeaderBytes ? .headersTooLarge : nil
    }

    /// RFC 6750 section 2.1, as `Authenticator.claims` reads it: one Authorization field, scheme `Bearer` in any
    /// case, one or more spaces, a token68. The claims of a valid token go straight into `claims` (the plan's), not
    /// through a `Result` moved out and in again: they are a struct of a dozen fields. nil: valid.
    private func authenticate(
        _ field: ByteSpan?, count: Int, in buffer: UnsafeRawPointer, now: Date, into claims: inout VerifiedClaims?
    ) -> AuthRejection? {
        guard let field, count > 0 else { return .missingToken }
        let bytes = field.bytes(in: buffer)
        if count == 1 && bytes.isEmpty { return .missingToken }
        guard count == 1 else { return .malformedAuthorization }
        guard bytes.count >= 6, Self.isBearerScheme(bytes), bytes.count == 6 || bytes[6] == UInt8(ascii: " ") else {
            return .missingToken
        }
        var start = 6
        while start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
        guard start < bytes.count, start > 6 else { return .malformedAuthorization }
        let token = UnsafeRawBufferPointer(rebasing: bytes[start...])
        guard Self.isToken68(token) else { return .malformedAuthorization }
        // Looked up by its bytes where they lie: no String per request.
        switch verifier.verify(utf8: token, now: now) {
        case .valid(let verified):
            claims = verified
            return nil
        case .invalid(let rejection): return .invalidToken(rejection)
        }
    }

    /// The first six bytes spell "bearer" in any case (the caller checked there are six).
    private static func isBearerScheme(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // The literal's bytes where the binary holds them: no `String.UTF8View` iterated per request.
        let scheme: StaticString = "bearer"
        for index in 0..<6 {
            let byte = bytes[index]
            if (byte >= 65 && byte <= 90 ? byte | 0x20 : byte) != scheme.utf8Start[index] { return false }
        }
        return true
    }

    /// Every byte is RFC 6750 section 2.1's token68 (letters, digits and `-._~+/=`, in any order and number, as
    /// `Authenticator.bearerToken` takes them): one table load per byte, the table fetched once per token, since
    /// this runs for every byte of every token.
    static func isToken68(_ bytes: UnsafeRawBufferPointer) -> Bool {
        token68Bytes.withUnsafeBufferPointer { table in
            for byte in bytes where !table[Int(byte)] { return false }
            return true
        }
    }

    /// `token68Low` and `token68High` as one flag per byte value (none at 128 and above), built once.
    static let token68Bytes: [Bool] = (0..<256).map { (byte: Int) -> Bool in
        if byte >= 128 { return false }
        let mask: UInt64 = byte < 64 ? token68Low : token68High
        return (mask >> UInt64(byte & 63)) & 1 != 0
    }

    /// `0-9 + - . / =` and `A-Z a-z _ ~` (checked against the rule in EngineRequestPlannerTests).
    static let token68Low: UInt64 = 0x23ff_e800_0000_0000
    static let token68High: UInt64 = 0x47ff_fffe_87ff_fffe

    static func substring(_ span: ByteSpan, in buffer: UnsafeRawPointer) -> Substring {
        String(decoding: span.bytes(in: buffer), as: UTF8.self)[...]
    }

    /// The Host value lower-cased without its port, as `RouteTable.match` expects it.
    private static func hostName(_ value: Substring) -> Substring {
        var name = value
        if let colon = name.lastIndex(of: ":"), !name.hasSuffix("]") { name = name[..<colon] }
        return name.lowercased()[...]
    }
}
