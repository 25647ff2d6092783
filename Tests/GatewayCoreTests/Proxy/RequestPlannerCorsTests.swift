import Foundation
import NIOHTTP1
import XCTest

@testable import GatewayCore

/// Where CORS sits among the request phases: a preflight is decided before the control plane, routing and
/// authentication, and every other decision carries the fields its answer gets.
final class RequestPlannerCorsTests: XCTestCase {
    private let h5 = "https://h5.example.com"

    private func runtime(cors: Bool = true) throws -> GatewayRuntime {
        try ProxyFixture.runtime(cors ? "\n[cors]\nallow_origins = [\"\(h5)\"]\n" : "")
    }

    private func plan(
        _ runtime: GatewayRuntime, _ method: HTTPMethod, _ uri: String, _ headers: [(String, String)] = []
    ) -> RequestPlan {
        var fields = HTTPHeaders(headers)
        fields.add(name: "Host", value: "gw.example")
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: fields)
        return RequestPlanner(runtime: runtime, scheme: "https").plan(
            head, fields: RequestHeadFields(fields), target: RequestTarget(uri), peerAddress: "10.1.2.3",
            requestID: "req-1", now: Date())
    }

    private func preflightHeaders(_ origin: String) -> [(String, String)] {
        [("Origin", origin), ("Access-Control-Request-Method", "POST")]
    }

    func testPreflightIsAnsweredBeforeAuthenticationOnAnyPath() throws {
        let runtime = try runtime()
        for uri in ["/api/orders", "/auth/login", "/nowhere"] {
            let planned = plan(runtime, .OPTIONS, uri, preflightHeaders(h5))
            guard case .preflight(let fields) = planned.decision else {
                return XCTFail("\(uri): \(planned.decision)")
            }
            XCTAssertTrue(fields.contains(CorsPolicy.Field("Access-Control-Allow-Origin", h5)), uri)
            XCTAssertEqual(planned.route, "preflight")
        }
    }

    func testPreflightFromAnotherOriginIsRefusedHere() throws {
        let planned = plan(try runtime(), .OPTIONS, "/api/orders", preflightHeaders("https://evil.example.net"))
        guard case .answer(let error, _) = planned.decision else { return XCTFail("\(planned.decision)") }
        XCTAssertEqual(error, .originNotAllowed)
        XCTAssertEqual(planned.cors, CorsPolicy.AnswerFields(fields: [], isActive: true))
    }

    func testGatewaysOwnRefusalCarriesTheAllowedOrigin() throws {
        let planned = plan(try runtime(), .GET, "/api/orders", [("Origin", h5)])
        guard case .answer(let error, _) = planned.decision else { return XCTFail("\(planned.decision)") }
        XCTAssertEqual(error.status, .unauthorized)
        XCTAssertEqual(planned.cors.fields.first, CorsPolicy.Field("Access-Control-Allow-Origin", h5))
    }

    func testForwardedRequestCarriesTheFieldsForItsAnswer() throws {
        let planned = plan(try runtime(), .GET, "/open/x", [("Origin", h5)])
        guard case .forward = planned.decision else { return XCTFail("\(planned.decision)") }
        XCTAssertTrue(planned.cors.isActive)
        XCTAssertEqual(planned.cors.fields.first?.value, h5)
    }

    func testWithoutCorsAPreflightIsAnOrdinaryRequest() throws {
        let planned = plan(try runtime(cors: false), .OPTIONS, "/open/x", preflightHeaders(h5))
        guard case .forward = planned.decision else { return XCTFail("\(planned.decision)") }
        XCTAssertEqual(planned.cors, .none)
    }
}
