import Foundation
import GatewayCore
import Tokens

@testable import Engine

/// A configuration snapshot for the planner's tests: routes on two upstreams, HS256 tokens, optional overrides, and
/// heads parsed from bytes by `RequestHeadParser` as the worker parses them.
enum EnginePlannerFixture {
    static let secret = "0123456789abcdef0123456789abcdef"

    static func runtime(_ extra: String = "", server: String = "") throws -> GatewayRuntime {
        let text = """
            [server]
            max_body_bytes = "1KiB"
            \(server)
            [wechat]
            [[wechat.apps]]
            appid = "wx1"
            secret = "s"

            [tokens]
            issuer = "gateway"
            audience = "legacy-api"
            secret = "\(secret)"

            [[routes]]
            prefix = "/api/"
            upstreams = ["http://127.0.0.1:9001", "http://127.0.0.1:9002"]

            [[routes]]
            prefix = "/open/"
            upstreams = ["http://127.0.0.1:9003"]
            auth = "none"
            strip_prefix = true
            \(extra)
            """
        let config = try ConfigLoader(environment: [:]).parse(text: text).get()
        let ring = try config.tokens.makeKeyRing().get()
        let verifier = GatewayRuntime.makeVerifier(config: config.tokens, keyRing: ring, revocations: RevocationList())
        return GatewayRuntime(config: config, verifier: verifier, control: nil)
    }

    static func token(subject: String = "o-alice", appid: String = "wx1", now: Date = Date()) throws -> String {
        let tokens = try runtime().config.tokens
        let ring = try tokens.makeKeyRing().get()
        return try TokenIssuer(keyRing: ring, issuer: tokens.issuer, audience: tokens.audience)
            .issue(subject: subject, appid: appid, unionid: nil, ttl: 900, now: now).token
    }

    /// The head of `request line + fields + blank line`, parsed as the worker parses it, with its buffer.
    static func withHead<T>(
        _ requestLine: String, _ fields: [(String, String)] = [], host: String? = "gw.example",
        _ body: (RequestHead, UnsafeRawPointer) throws -> T
    ) rethrows -> T {
        var text = requestLine + "\r\n"
        if let host { text += "Host: \(host)\r\n" }
        for (name, value) in fields { text += "\(name): \(value)\r\n" }
        let bytes = Array((text + "\r\n").utf8)
        return try bytes.withUnsafeBytes { raw in
            let parser = RequestHeadParser()
            _ = parser.parse(raw.baseAddress!, from: 0, count: raw.count)
            return try body(parser.head, raw.baseAddress!)
        }
    }

    /// The planner's decision for that head under `runtime`'s settings, as the worker asks for it.
    static func plan(
        _ runtime: GatewayRuntime, _ requestLine: String, _ fields: [(String, String)] = [],
        host: String? = "gw.example"
    ) -> RequestDecision {
        let settings = EngineSettings(runtime: runtime, accessLogger: nil)
        return withHead(requestLine, fields, host: host) { head, buffer in
            var rules: [RequestFieldRule] = []
            return settings.planner.plan(head, in: buffer, rules: &rules, now: Date())
        }
    }

    /// The upstream request a forwarded head becomes: libcurl's URL and header lines (`UpstreamRequestLines`).
    static func upstreamRequest(
        _ runtime: GatewayRuntime, _ requestLine: String, _ fields: [(String, String)] = [],
        host: String? = "gw.example", overTLS: Bool = false, peer: String = "10.1.2.3", trustedPeer: Bool = false,
        traced: Bool = false
    ) -> (url: String, lines: [String])? {
        let settings = EngineSettings(runtime: runtime, accessLogger: nil)
        return withHead(requestLine, fields, host: host) { head, buffer in
            var rules: [RequestFieldRule] = []
            guard case .forward(let plan) = settings.planner.plan(head, in: buffer, rules: &rules, now: Date()) else {
                return nil
            }
            // The worker starts the request's trace (`traceparent` upstream) as it plans it.
            let trace = traced ? EngineRequestPlanner.startTrace(runtime.tracer, head, in: buffer) : nil
            var built = UpstreamRequestLines()
            defer { built.deallocate() }
            built.build(
                head: head, rules: rules, buffer: buffer, plan: plan, identity: settings.identity, peer: peer,
                trustedPeer: trustedPeer, trace: trace, overTLS: overTLS)
            return (built.url.map { String(cString: $0) } ?? "", lines(of: built))
        }
    }

    static func lines(of built: UpstreamRequestLines) -> [String] {
        var result: [String] = []
        var node = built.list
        while let current = node {
            if let data = current.pointee.data { result.append(String(cString: data)) }
            node = current.pointee.next
        }
        return result
    }
}

extension RequestDecision {
    /// The error of a local answer, nil for a forward.
    var error: GatewayError? {
        if case .answer(let error, _, _, _) = self { return error }
        return nil
    }

    var route: String? {
        switch self {
        case .forward(let plan): return plan.routePrefix
        case .answer(_, _, _, let route): return route
        }
    }

    var forward: ForwardPlan? {
        if case .forward(let plan) = self { return plan }
        return nil
    }
}
