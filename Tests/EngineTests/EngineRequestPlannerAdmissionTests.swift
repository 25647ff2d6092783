import Foundation
import GatewayCore
import XCTest

@testable import Engine

/// One row per admission rule, route rule and auth outcome of the engine's planner, without a socket (moved from
/// `RequestPlannerTests`): heads parsed from bytes, decisions as the worker gets them.
final class EngineRequestPlannerAdmissionTests: XCTestCase {
    private var runtime: GatewayRuntime!

    override func setUpWithError() throws {
        runtime = try EnginePlannerFixture.runtime()
    }

    private func plan(
        _ requestLine: String, _ fields: [(String, String)] = [], host: String? = "gw.example"
    ) -> RequestDecision {
        EnginePlannerFixture.plan(runtime, requestLine, fields, host: host)
    }

    /// The refusal the worker makes from a head with a body before it plans (`EngineWorker.refusal`).
    private func bodyRefusal(_ requestLine: String, _ fields: [(String, String)]) -> GatewayError? {
        EnginePlannerFixture.withHead(requestLine, fields) { head, _ in
            XCTAssertTrue(head.hasBody, requestLine)
            return EngineWorker.refusal(of: head, maxBodyBytes: runtime.config.server.maxBodyBytes.bytes)
        }
    }

    func testAdmissionRulesAnswerBeforeRouting() {
        XCTAssertEqual(plan("GET /api/x HTTP/1.1", host: nil).error, .malformedRequest)
        XCTAssertEqual(plan("GET /api/x HTTP/1.1", [("Host", "second")]).error, .malformedRequest)
        XCTAssertEqual(plan("GET /api/x HTTP/1.1", host: "bad host").error, .malformedRequest)
        XCTAssertEqual(bodyRefusal("POST /api/x HTTP/1.0", [("Transfer-Encoding", "chunked")]), .malformedRequest)
        XCTAssertEqual(
            bodyRefusal("POST /api/x HTTP/1.1", [("Transfer-Encoding", "gzip, chunked")]), .unsupportedTransferCoding)
        XCTAssertEqual(bodyRefusal("POST /api/x HTTP/1.1", [("Content-Length", "2048")]), .bodyTooLarge)
        XCTAssertNil(bodyRefusal("POST /api/x HTTP/1.1", [("Content-Length", "1024")]))
        XCTAssertEqual(
            plan("GET /api/\(String(repeating: "a", count: 20_000)) HTTP/1.1").error, .headersTooLarge)
        XCTAssertEqual(plan("GET /api/a%00.jpg HTTP/1.1").error, .badRequestTarget)
        XCTAssertEqual(plan("GET /nowhere HTTP/1.1").error, .routeNotFound)
        // HTTP/1.0 needs no Host (RFC 9112 section 3.2 is HTTP/1.1's rule).
        XCTAssertNotNil(plan("GET /open/x HTTP/1.0", host: nil).forward)
    }

    /// What the answers decided before `plan` (a CORS preflight, the control plane) ask first: the same Host and
    /// size rules, so a control-plane request without a Host is answered 400 like any other.
    func testTheHeadsOwnRefusalHoldsForAnswersDecidedBeforeThePlan() throws {
        let settings = EngineSettings(
            runtime: try EnginePlannerFixture.runtime(server: "max_header_bytes = 4096"),
            accessLogger: nil)
        func refusal(
            _ requestLine: String, _ fields: [(String, String)] = [], host: String? = "gw.example"
        )
            -> GatewayError?
        {
            EnginePlannerFixture.withHead(requestLine, fields, host: host) {
                settings.planner.admissionRefusal($0, in: $1)
            }
        }
        XCTAssertNil(refusal("POST /auth/login HTTP/1.1", [("Content-Length", "2")]))
        XCTAssertNil(refusal("GET /.well-known/jwks.json HTTP/1.0", host: nil))
        XCTAssertEqual(refusal("POST /auth/login HTTP/1.1", host: nil), .malformedRequest)
        XCTAssertEqual(refusal("GET /auth/x HTTP/1.1", [("Host", "b.example")]), .malformedRequest)
        XCTAssertEqual(refusal("GET /auth/x HTTP/1.1", host: "a/b"), .malformedRequest)
        XCTAssertEqual(
            refusal("OPTIONS /api/x HTTP/1.1", [("X-Big", String(repeating: "b", count: 5000))]), .headersTooLarge)
    }

    func testRequiredRouteWithoutTokenIsRefusedWithTheRouteLogged() {
        let planned = plan("GET /api/orders HTTP/1.1")
        XCTAssertEqual(planned.error, .authentication(.missingToken))
        XCTAssertEqual(planned.route, "/api/")
    }

    func testValidTokenForwardsWithIdentityAndWithoutForgedHeaders() throws {
        let fields = [
            ("Authorization", "Bearer \(try EnginePlannerFixture.token())"), ("X-OpenId", "forged"),
            ("X_OpenId", "forged"),
        ]
        let forward = try XCTUnwrap(plan("GET /api/orders?page=2 HTTP/1.1", fields).forward)
        XCTAssertEqual(forward.claims?.subject, "o-alice")
        let request = try XCTUnwrap(
            EnginePlannerFixture.upstreamRequest(runtime, "GET /api/orders?page=2 HTTP/1.1", fields, overTLS: true))
        // Round robin over the route's two upstreams: each plan takes the next.
        XCTAssertTrue(
            ["http://127.0.0.1:9001/api/orders?page=2", "http://127.0.0.1:9002/api/orders?page=2"].contains(
                request.url), request.url)
        let openids = request.lines.filter { $0.lowercased().hasPrefix("x-openid") || $0.hasPrefix("X_OpenId") }
        XCTAssertEqual(openids, ["X-OpenId: o-alice"])
        XCTAssertFalse(request.lines.contains { $0.lowercased().hasPrefix("authorization") && !$0.hasSuffix(":") })
        XCTAssertTrue(request.lines.contains("X-Forwarded-Proto: https"), "\(request.lines)")
    }

    func testStripPrefixAndBodiesShapeTheUpstreamRequest() throws {
        let open = try XCTUnwrap(EnginePlannerFixture.upstreamRequest(runtime, "POST /open/v1/items HTTP/1.1"))
        XCTAssertEqual(open.url, "http://127.0.0.1:9003/v1/items")
        // A POST without a body sends an empty one, so the upstream sees Content-Length: 0.
        EnginePlannerFixture.withHead("POST /open/v1/items HTTP/1.1") { head, _ in
            XCTAssertEqual(EngineWorker.uploadBody(of: head), .empty)
        }
        EnginePlannerFixture.withHead("GET /open/v1/items HTTP/1.1") { head, _ in
            XCTAssertEqual(EngineWorker.uploadBody(of: head), EngineTransfer.Body.none)
        }
        EnginePlannerFixture.withHead("PUT /open/f HTTP/1.1", [("Content-Length", "10")]) { head, _ in
            XCTAssertEqual(EngineWorker.uploadBody(of: head), .streamed(length: 10))
        }
        EnginePlannerFixture.withHead("PUT /open/f HTTP/1.1", [("Transfer-Encoding", "chunked")]) { head, _ in
            XCTAssertEqual(EngineWorker.uploadBody(of: head), .streamed(length: nil))
        }
    }

    func testContinueIsAnsweredOnlyToClientsThatCanReadIt() {
        func action(_ requestLine: String) -> EngineConnection.HeadAction {
            EnginePlannerFixture.withHead(requestLine, [("Content-Length", "10"), ("Expect", "100-continue")]) {
                head, _ in
                var connection = EngineConnection()
                let shape = EngineConnection.RequestShape(keepAlive: true, isHead: false, isHTTP10: head.isHTTP10)
                return connection.headReceived(
                    shape, forward: true,
                    body: EngineConnection.RequestBody(announced: head.hasBody, expectsContinue: head.expectsContinue))
            }
        }
        XCTAssertEqual(action("PUT /open/f HTTP/1.1"), .continueAndStartTransfer)
        // RFC 9110 section 10.1.1: an HTTP/1.0 client's expectation is ignored; it could not read an interim answer.
        XCTAssertEqual(action("PUT /open/f HTTP/1.0"), .startTransfer)
    }

    func testOnlyUnsentIdempotentRequestsWithoutBodyAreRetriedOnceElsewhere() throws {
        let token = try EnginePlannerFixture.token()
        let get = try XCTUnwrap(plan("GET /api/x HTTP/1.1", [("Authorization", "Bearer \(token)")]).forward)
        let pool = try XCTUnwrap(get.pool)
        let next = try XCTUnwrap(pool.pick(excluding: get.upstreamIndex))
        XCTAssertNotEqual(next, get.upstreamIndex)
        XCTAssertTrue(pool.upstreams[next].url(forPath: "/api/x", query: "").hasSuffix("/api/x"))
        func mayRetry(
            _ method: String, attempts: Int = 1, hasBody: Bool = false, couldNotConnect: Bool = true
        )
            -> Bool
        {
            UpstreamFailure.mayRetry(
                method: method, hasBody: hasBody, attempts: attempts, couldNotConnect: couldNotConnect)
        }
        XCTAssertTrue(mayRetry("GET"))
        XCTAssertFalse(mayRetry("GET", attempts: 2))
        XCTAssertFalse(mayRetry("GET", couldNotConnect: false))
        XCTAssertFalse(mayRetry("POST"))
        XCTAssertFalse(mayRetry("PUT", hasBody: true))
        for method in ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"] {
            XCTAssertTrue(UpstreamFailure.isIdempotent(method), method)
        }
        XCTAssertFalse(UpstreamFailure.isIdempotent("PATCH"))
    }
}
