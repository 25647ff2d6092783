import Foundation
import XCTest

@testable import GatewayCore

final class RequestClassificationTests: XCTestCase {
    private func entry(
        route: String?, method: String = "GET", path: Substring = "/api/x", status: Int, error: String? = nil
    )
        -> AccessLogEntry
    {
        var entry = AccessLogEntry(time: Date(), requestID: "r", clientAddress: nil, method: method, path: path)
        entry.route = route
        entry.status = status
        entry.error = error
        return entry
    }

    func testProxiedRequestIsLabelledByRoutePrefixMethodAndStatus() {
        let classification = RequestClassification(entry(route: "/api/", method: "DELETE", status: 204))
        XCTAssertEqual(classification.labels, .init(route: "/api/", method: "DELETE", status: 204))
        XCTAssertNil(classification.controlCall)
        XCTAssertNil(classification.tokenFailure)
    }

    func testUnmatchedRequestAndOddMethodsUseBoundedLabels() {
        let classification = RequestClassification(entry(route: nil, method: "BREW", status: 404))
        XCTAssertEqual(classification.labels.route, "none")
        XCTAssertEqual(classification.labels.method, "other")
        XCTAssertEqual(RequestClassification(entry(route: nil, method: "-", status: 400)).labels.method, "other")
    }

    func testLoginAndRefreshOutcomesComeFromTheControlRouteAndStatus() {
        let login = RequestClassification(entry(route: "control", method: "POST", path: "/auth/login", status: 200))
        XCTAssertEqual(login.controlCall, .login)
        XCTAssertEqual(login.outcome, "success")
        let refresh = RequestClassification(entry(route: "control", method: "POST", path: "/auth/token", status: 400))
        XCTAssertEqual(refresh.controlCall, .refresh)
        XCTAssertEqual(refresh.outcome, "rejected")
        XCTAssertEqual(
            RequestClassification(entry(route: "control", path: "/auth/login", status: 429)).outcome, "rate_limited")
        XCTAssertEqual(
            RequestClassification(entry(route: "control", path: "/auth/login", status: 503)).outcome, "unavailable")
        XCTAssertNil(RequestClassification(entry(route: "control", path: "/auth/logout", status: 204)).controlCall)
    }

    func testRejectionsWithoutATokenCheckAreTokenFailuresOnProxiedRoutesOnly() {
        XCTAssertEqual(
            RequestClassification(entry(route: "/api/", status: 401, error: "unauthorized")).tokenFailure, "missing")
        XCTAssertEqual(
            RequestClassification(entry(route: "/api/", status: 400, error: "invalid_request")).tokenFailure,
            "malformed_header")
        // The verifier's own rejections are counted by CountingTokenVerifier, not twice here.
        XCTAssertNil(RequestClassification(entry(route: "/api/", status: 401, error: "invalid_token")).tokenFailure)
        XCTAssertNil(RequestClassification(entry(route: "control", status: 401, error: "unauthorized")).tokenFailure)
        XCTAssertNil(RequestClassification(entry(route: nil, status: 400, error: "invalid_request")).tokenFailure)
    }
}

extension RequestClassificationTests {
    func testSevenByteRoutesOtherThanControlAreProxiedRoutes() {
        // "control" is recognised by its length first, then its bytes: other 7-byte prefixes are proxied routes.
        for route in ["/tools/", "Control", "control".uppercased(), "contro/"] {
            let classification = RequestClassification(
                entry(route: route, path: "/auth/login", status: 401, error: "unauthorized"))
            XCTAssertNil(classification.controlCall, route)
            XCTAssertEqual(classification.tokenFailure, "missing", route)
            XCTAssertEqual(classification.labels.route, route)
        }
    }

    func testTokenFailuresNeedBothTheStatusAndTheError() {
        XCTAssertNil(RequestClassification(entry(route: "/api/", status: 400, error: "unauthorized")).tokenFailure)
        XCTAssertNil(RequestClassification(entry(route: "/api/", status: 401, error: "invalid_request")).tokenFailure)
        XCTAssertNil(RequestClassification(entry(route: "/api/", status: 401)).tokenFailure)
        XCTAssertNil(RequestClassification(entry(route: "/api/", status: 400)).tokenFailure)
    }
}
