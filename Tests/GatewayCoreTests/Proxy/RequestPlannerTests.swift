import CurlHTTP
import Foundation
import NIOHTTP1
import XCTest

@testable import GatewayCore

/// One row per admission rule, control-plane split, route rule and auth outcome, without a socket.
final class RequestPlannerTests: XCTestCase {
    private var runtime: GatewayRuntime!

    override func setUpWithError() throws {
        runtime = try ProxyFixture.runtime()
    }

    private func plan(
        _ uri: String, version: HTTPVersion = .http1_1, _ headers: [(String, String)] = [], host: String? = "gw.example"
    ) -> RequestPlan {
        plan(.GET, uri, version: version, headers, host: host)
    }

    private func plan(
        _ method: HTTPMethod, _ uri: String, version: HTTPVersion = .http1_1, _ headers: [(String, String)] = [],
        host: String? = "gw.example"
    ) -> RequestPlan {
        var fields = HTTPHeaders(headers)
        if let host { fields.add(name: "Host", value: host) }
        let head = HTTPRequestHead(version: version, method: method, uri: uri, headers: fields)
        return RequestPlanner(runtime: runtime, scheme: "https").plan(
            head, fields: RequestHeadFields(fields), target: RequestTarget(uri), peerAddress: "10.1.2.3",
            requestID: "req-1", now: Date())
    }

    private func answer(_ plan: RequestPlan) -> GatewayError? {
        if case .answer(let error, _) = plan.decision { return error }
        return nil
    }

    private func forward(_ plan: RequestPlan, file: StaticString = #filePath, line: UInt = #line) throws -> ForwardPlan
    {
        guard case .forward(let forward) = plan.decision else {
            XCTFail("expected a forward, got \(plan.decision)", file: file, line: line)
            throw XCTSkip()
        }
        return forward
    }

    func testAdmissionRulesAnswerBeforeRouting() {
        XCTAssertEqual(answer(plan("/api/x", host: nil)), .malformedRequest)
        XCTAssertEqual(answer(plan("/api/x", [("Host", "second")])), .malformedRequest)
        XCTAssertEqual(answer(plan("/api/x", host: "bad host")), .malformedRequest)
        XCTAssertEqual(
            answer(plan(.POST, "/api/x", version: .http1_0, [("Transfer-Encoding", "chunked")])), .malformedRequest)
        XCTAssertEqual(
            answer(plan(.POST, "/api/x", [("Transfer-Encoding", "gzip, chunked")])), .unsupportedTransferCoding)
        XCTAssertEqual(answer(plan(.POST, "/api/x", [("Content-Length", "2048")])), .bodyTooLarge)
        XCTAssertEqual(answer(plan("/api/" + String(repeating: "a", count: 20_000))), .headersTooLarge)
        XCTAssertEqual(answer(plan("/api/a%00.jpg")), .badRequestTarget)
        XCTAssertEqual(answer(plan("/nowhere")), .routeNotFound)
    }

    func testControlPathsGoToTheControlPlaneBeforeRoutes() {
        let planned = plan(.POST, "/auth/login", [("Content-Length", "2")])
        guard case .control = planned.decision else { return XCTFail("\(planned.decision)") }
        XCTAssertEqual(planned.route, "control")
    }

    func testRequiredRouteWithoutTokenIsRefusedWithTheRouteLogged() {
        let planned = plan("/api/orders")
        XCTAssertEqual(answer(planned), .authentication(.missingToken))
        XCTAssertEqual(planned.route, "/api/")
        XCTAssertNil(planned.openid)
    }

    func testValidTokenForwardsWithIdentityAndWithoutForgedHeaders() throws {
        let planned = plan(
            "/api/orders?page=2",
            [
                ("Authorization", "Bearer \(try ProxyFixture.token())"), ("X-OpenId", "forged"), ("X_OpenId", "forged"),
            ])
        let forward = try forward(planned)
        XCTAssertEqual(planned.openid, "o-alice")
        XCTAssertEqual(forward.request.url, "http://127.0.0.1:9001/api/orders?page=2")
        let openids = forward.request.headers.filter { ASCIICase.equals($0.name, "x-openid") || $0.name == "X_OpenId" }
        XCTAssertEqual(openids.map(\.value), ["o-alice"])
        XCTAssertFalse(forward.request.headers.contains { ASCIICase.equals($0.name, "authorization") })
        XCTAssertTrue(forward.request.headers.contains { $0.name == "X-Forwarded-Proto" && $0.value == "https" })
    }

    func testStripPrefixAndBodiesShapeTheUpstreamRequest() throws {
        let open = try forward(plan(.POST, "/open/v1/items"))
        XCTAssertEqual(open.request.url, "http://127.0.0.1:9003/v1/items")
        guard case .bytes(let empty) = open.request.body else {
            return XCTFail("a POST without body sends an empty one")
        }
        XCTAssertEqual(empty.readableBytes, 0)
        let upload = try forward(plan(.PUT, "/open/f", [("Content-Length", "10")]))
        XCTAssertTrue(upload.hasBody)
        guard case .streamed(length: 10) = upload.request.body else { return XCTFail("\(upload.request.body)") }
    }

    func testContinueIsAnsweredOnlyToClientsThatCanReadIt() throws {
        let modern = try forward(plan(.PUT, "/open/f", [("Content-Length", "10"), ("Expect", "100-continue")]))
        XCTAssertTrue(modern.sendsContinue)
        let old = try forward(
            plan(.PUT, "/open/f", version: .http1_0, [("Content-Length", "10"), ("Expect", "100-continue")]))
        XCTAssertFalse(old.sendsContinue)
    }

    func testOnlyUnsentIdempotentRequestsWithoutBodyAreRetriedOnceElsewhere() throws {
        let token = try ProxyFixture.token()
        let get = try forward(plan("/api/x", [("Authorization", "Bearer \(token)")]))
        let retried = try XCTUnwrap(RequestPlanner.retry(get, attempts: 1, requestWasSent: false))
        XCTAssertNotEqual(retried.upstreamIndex, get.upstreamIndex)
        XCTAssertTrue(retried.request.url.hasSuffix("/api/x"))
        XCTAssertNil(RequestPlanner.retry(get, attempts: 2, requestWasSent: false))
        XCTAssertNil(RequestPlanner.retry(get, attempts: 1, requestWasSent: true))
        let post = try forward(plan(.POST, "/api/x", [("Authorization", "Bearer \(token)")]))
        XCTAssertNil(RequestPlanner.retry(post, attempts: 1, requestWasSent: false))
    }
}
