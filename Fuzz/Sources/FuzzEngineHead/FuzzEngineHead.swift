import Foundation
import NIOHTTP1
import Tokens

@testable import Engine
@testable import GatewayCore

/// The engine's request head from raw bytes (issue 23, "Fuzz the new parsing boundary"): llhttp through
/// `RequestHeadParser`, then what the worker does with a head that is pure: the body refusals, the CORS decision,
/// the trace, the control plane's check, `EngineRequestPlanner.plan`, and the bytes written (`UpstreamRequestLines`,
/// the upgrade request's fields, `ClientHeadWriter`'s answers). Checked whatever the bytes (`EngineHeadChecks`):
/// the same bytes in one read and in several give the same requests; spans stay within the bytes read; identity
/// headers upstream carry the gateway's value or are absent; no written field holds a CR, LF or NUL.
///
/// Input: byte 0 chooses the reads (`EngineHeadInput.cuts`), its bit 7 whether the peer is a trusted proxy, bit 6
/// whether it came over TLS; the rest is what the client sent, with each `@tok` replaced by a valid access token so
/// that the fuzzer reaches the identity headers (a token it cannot forge otherwise).
enum EngineHeadHarness {
    static let secret = "0123456789abcdef0123456789abcdef"
    /// The tokens are issued and checked at this instant, so a seed's token never expires.
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    /// Built in code rather than read from TOML: TOMLKit leaks a little per parse (see Fuzz/run.sh), which would be
    /// this target's first "finding".
    static let tokens: TokensConfig = {
        var tokens = TokensConfig()
        tokens.signingKey = .secret(secret)
        return tokens
    }()
    static let ring = try! tokens.makeKeyRing().get()
    static let token = try! TokenIssuer(keyRing: ring, issuer: tokens.issuer, audience: tokens.audience)
        .issue(subject: "o-fuzz", appid: "wx-fuzz", unionid: "u-fuzz", ttl: 3600, now: now).token
    static let identity = IdentityConfig()
    /// `/api/`: `auth = "optional"` and `strip_prefix`; `/ws/`: a WebSocket route that forwards `Authorization`.
    static let routes: [RouteConfig] = {
        var api = RouteConfig(prefix: "/api/", upstreams: [UpstreamURL(configText: "http://127.0.0.1:9001/base")!])
        api.auth = .optional
        api.stripPrefix = true
        var socket = RouteConfig(
            prefix: "/ws/", upstreams: [UpstreamURL(configText: "http://127.0.0.1:9002")!], index: 1)
        socket.websocket = true
        socket.forwardAuthorization = true
        return [api, socket]
    }()
    /// `[cors]` on, with `check_websocket_origin`.
    static let cors: CorsConfig = {
        var cors = CorsConfig()
        cors.allowOrigins = ["https://h5.example.com"]
        cors.exposeHeaders += ["X-Total-Count"]
        cors.checkWebSocketOrigin = true
        return cors
    }()
    static let planner = EngineRequestPlanner(
        routes: RouteTable(routes),
        verifier: GatewayRuntime.makeVerifier(config: tokens, keyRing: ring, revocations: RevocationList()),
        rewriter: HeaderRewriter(identity: identity, trustedProxies: [IPAddressRange(configText: "10.0.0.0/8")!]),
        cors: CorsPolicy(cors), maxHeaderBytes: 4096)
    /// Tracing on with export off: every request gets a trace and the upstream the gateway's `traceparent`.
    static let tracer = RequestTracer.off
    /// Kept from one input to the next, as a worker keeps its transfer's lines from one request to the next.
    nonisolated(unsafe) static var lines = UpstreamRequestLines()
    nonisolated(unsafe) static var rules: [RequestFieldRule] = []

    /// Everything the worker decides and writes for one parsed head, each written byte checked.
    static func decide(_ head: RequestHead, in buffer: UnsafeRawPointer, input: EngineHeadInput) {
        if head.hasBody, let refusal = EngineWorker.refusal(of: head, maxBodyBytes: HeadFeed.maxBodyBytes) {
            answer(refusal, requestID: RequestID.generate(), head: head, cors: .none)
            return
        }
        let cors = planner.corsDecision(head, in: buffer)
        // A head the planner refuses (no single valid Host, over the size limit) is left to `plan`, preflight or
        // control request alike (`EngineWorker.answerCors`, `startControlIfHandled`).
        let admission = planner.admissionRefusal(head, in: buffer)
        switch cors {
        case .answerPreflight(let fields)? where admission == nil:
            var out: [UInt8] = []
            ClientHeadWriter.writePreflight(
                fields, requestID: RequestID.generate(), closes: false, isHTTP10: head.isHTTP10, into: &out)
            EngineHeadChecks.checkClientHead(out)
            return
        case .refusePreflight?, .refuseWebSocket?:
            guard admission == nil else { break }
            let fields = EngineRequestPlanner.answerFields(cors)
            answer(.originNotAllowed, requestID: RequestID.generate(), head: head, cors: fields)
            return
        default: break
        }
        let answerFields = EngineRequestPlanner.answerFields(cors)
        let trace = EngineRequestPlanner.startTrace(tracer, head, in: buffer)
        let target = EngineRequestPlanner.target(of: head, in: buffer)
        if admission == nil, let target,
            target.path.utf8.starts(with: "/auth/".utf8) || AuthEndpoints.routes.contains(path: target.path)
        {
            // As `startControlIfHandled`: the fields as `HTTPHeaders`, the client's request id, the method.
            let headers = EngineWorker.headers(of: head, in: buffer)
            let requestID = headers.first(name: "x-request-id").flatMap { RequestID.accept($0[...]) }
            _ = AuthEndpoints.routes.match(HTTPMethod(rawValue: head.method), target.path)
            answer(.routeNotFound, requestID: requestID ?? RequestID.generate(), head: head, cors: answerFields)
            return
        }
        if head.isUpgrade { _ = EngineWorker.headers(of: head, in: buffer) }
        switch planner.plan(head, in: buffer, target: target, rules: &rules, now: now) {
        case .forward(let plan):
            precondition(admission == nil, "forwarded a head admission refuses (\(String(describing: admission)))")
            precondition(rules.count == head.fields.count, "a rule per field")
            lines.build(
                head: head, rules: rules, buffer: buffer, plan: plan, identity: identity, peer: "10.1.2.3",
                trustedPeer: input.trustedPeer, trace: trace, overTLS: input.overTLS)
            EngineHeadChecks.checkUpstream(lines, claims: plan.claims, identity: identity)
        case .answer(let error, let requestID, _, _):
            // The two admission checks agree: what one refuses the other refuses the same way.
            let admits = error != .malformedRequest && error != .headersTooLarge
            precondition(
                admits ? admission == nil : admission == error,
                "plan: \(error), admission: \(String(describing: admission))")
            answer(error, requestID: requestID, head: head, cors: answerFields)
        }
    }

    private static func answer(
        _ error: GatewayError, requestID: String, head: RequestHead, cors: CorsPolicy.AnswerFields
    ) {
        var out: [UInt8] = []
        _ = ClientHeadWriter.writeAnswer(
            error, requestID: requestID, realm: "gateway", isHead: head.method == "HEAD", closes: !head.keepAlive,
            isHTTP10: head.isHTTP10, cors: cors, into: &out)
        EngineHeadChecks.checkClientHead(out)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngineHead(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let input = EngineHeadInput(UnsafeRawBufferPointer(start: start, count: count))
    let whole = HeadFeed.run(input.bytes, cuts: []) { head, buffer in
        EngineHeadChecks.checkHead(head, in: buffer)
        EngineHeadHarness.decide(head, in: buffer, input: input)
    }
    let pieces = HeadFeed.run(input.bytes, cuts: input.cuts)
    precondition(whole.end == pieces.end, "one read ended \(whole.end), reads at \(input.cuts) ended \(pieces.end)")
    precondition(whole.requests == pieces.requests, "one read and reads at \(input.cuts) parsed different requests")
    return 0
}
