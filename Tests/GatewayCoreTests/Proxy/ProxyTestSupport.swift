import CurlHTTP
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Tokens

@testable import GatewayCore

/// A configuration snapshot for proxy tests: routes on two upstreams, HS256 tokens, optional overrides.
enum ProxyFixture {
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
        let ring = try KeyRing(current: TokenKey.hmac(secret: secret, kid: "k1"))
        let verifier = AccessTokenVerifier(keyRing: ring, issuer: "gateway", audience: "legacy-api", leeway: 30)
        return GatewayRuntime(config: config, verifier: verifier, control: StubControl())
    }

    static func token(subject: String = "o-alice", appid: String = "wx1", now: Date = Date()) throws -> String {
        let ring = try KeyRing(current: TokenKey.hmac(secret: secret, kid: "k1"))
        return try TokenIssuer(keyRing: ring, issuer: "gateway", audience: "legacy-api")
            .issue(subject: subject, appid: appid, unionid: nil, ttl: 900, now: now).token
    }
}

/// Control endpoints that answer every `/auth/` request with 200 `{}` (the handler's part is under test).
struct StubControl: ControlEndpoints {
    func handles(path: Substring) -> Bool { path.hasPrefix("/auth/") }
    func respond(to request: ControlRequest) async -> ControlResponse { .json(.ok, "{}") }
}

/// An upstream client that starts nothing: it records each request, and the test plays the transfer's events
/// (`play`), as the curl thread would, then ends the "pass" so the inbox delivers them.
final class ScriptedUpstreams: UpstreamClient, @unchecked Sendable {
    final class Transfer: UpstreamTransfer, @unchecked Sendable {
        var body = ByteBuffer()
        var finished = false
        var cancelled = false
        var paused = false
        func writeBody(_ buffer: ByteBuffer) -> Bool {
            var copy = buffer
            body.writeBuffer(&copy)
            return true
        }
        func finishBody() { finished = true }
        func pauseResponse() { paused = true }
        func resumeResponse() { paused = false }
        func cancel() { cancelled = true }
    }

    private(set) var started: [(request: CurlRequest, exchange: UpstreamExchange, transfer: Transfer)] = []
    private var observers: [@Sendable () -> Void] = []

    func start(_ request: CurlRequest, for exchange: UpstreamExchange, affinity: Int) -> any UpstreamTransfer {
        let transfer = Transfer()
        started.append((request, exchange, transfer))
        return transfer
    }

    func addPassObserver(thread: Int, _ observer: @escaping @Sendable () -> Void) {
        observers.append(observer)
    }

    /// Posts `events` for the `index`-th started transfer, then ends the pass.
    func play(_ events: [UpstreamEvent], transfer index: Int = 0) {
        let (_, exchange, transfer) = started[index]
        for event in events { exchange.post(event, from: transfer) }
        for observer in observers { observer() }
    }

    static func info(sent: Bool = true, bodyBytes: Int = 0) -> CurlTransferInfo {
        CurlTransferInfo(
            remoteAddress: nil, totalSeconds: 0.001, requestBodyBytes: 0, responseBodyBytes: bodyBytes,
            requestWasSent: sent)
    }
}

/// The total of `gateway_requests_total` samples whose labels contain `filter`: how many requests were logged.
func loggedRequests(_ metrics: GatewayMetrics, matching filter: String = "") -> Int {
    let text = String(decoding: metrics.exposition(), as: UTF8.self)
    var total = 0
    for line in text.split(separator: "\n")
    where line.hasPrefix("gateway_requests_total{") && (filter.isEmpty || line.contains(filter)) {
        total += Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
    }
    return total
}
