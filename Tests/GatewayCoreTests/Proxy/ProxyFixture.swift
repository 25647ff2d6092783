import Foundation
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

/// Control endpoints that answer every `/auth/` request with 200 `{}` (the planner's part is under test).
struct StubControl: ControlEndpoints {
    func handles(path: Substring) -> Bool { path.hasPrefix("/auth/") }
    func respond(to request: ControlRequest) async -> ControlResponse { .json(.ok, "{}") }
}
