import XCTest

@testable import GatewayCore

/// `CorsPolicy`: every CORS decision as a value, without a socket (Fetch standard, "CORS protocol").
final class CorsPolicyTests: XCTestCase {
    private let h5 = "https://h5.example.com"

    private func policy(_ configure: (inout CorsConfig) -> Void = { _ in }) -> CorsPolicy {
        var config = CorsConfig()
        config.allowOrigins = [h5, "http://localhost:5173"]
        configure(&config)
        return CorsPolicy(config)
    }

    private func fields(_ decision: CorsPolicy.Decision) -> [String: String] {
        switch decision {
        case .answerPreflight(let list): return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0.value) })
        case .decorate(let answer): return Dictionary(uniqueKeysWithValues: answer.fields.map { ($0.name, $0.value) })
        case .refusePreflight, .refuseWebSocket: return [:]
        }
    }

    func testPreflightFromAllowedOriginIsAnsweredWithTheConfiguredLists() {
        let decision = policy().decide(CorsRequest(method: "OPTIONS", origin: h5, requestMethod: "PUT"))
        XCTAssertEqual(
            fields(decision),
            [
                "Access-Control-Allow-Origin": h5,
                "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Request-Id",
                "Access-Control-Max-Age": "600",
                "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ])
    }

    func testEmptyMethodListSendsNoAllowMethodsField() {
        let decision = policy { $0.allowMethods = [] }.decide(
            CorsRequest(method: "OPTIONS", origin: h5, requestMethod: "POST"))
        XCTAssertNil(fields(decision)["Access-Control-Allow-Methods"])
        XCTAssertEqual(fields(decision)["Access-Control-Allow-Origin"], h5)
    }

    func testPreflightFromAnotherOriginIsRefused() {
        let decision = policy().decide(
            CorsRequest(method: "OPTIONS", origin: "https://evil.example.net", requestMethod: "GET"))
        XCTAssertEqual(decision, .refusePreflight)
    }

    func testOriginIsComparedAsBrowsersSerialiseIt() {
        for other in ["https://H5.example.com", "https://h5.example.com/", "https://h5.example.com:443", "null", ""] {
            XCTAssertEqual(
                policy().decide(CorsRequest(method: "OPTIONS", origin: other, requestMethod: "GET")), .refusePreflight,
                other)
        }
    }

    func testTwoOriginLinesAreTrustedNeither() {
        let decision = policy().decide(
            CorsRequest(method: "OPTIONS", origin: h5, originCount: 2, requestMethod: "GET"))
        XCTAssertEqual(decision, .refusePreflight)
    }

    func testOptionsWithoutRequestMethodIsAnOrdinaryRequest() {
        let decision = policy().decide(CorsRequest(method: "OPTIONS", origin: h5))
        XCTAssertEqual(fields(decision)["Access-Control-Allow-Origin"], h5)
        XCTAssertNil(fields(decision)["Access-Control-Allow-Methods"])
    }

    func testPreflightWithoutOriginIsAnOrdinaryRequest() {
        let decision = policy().decide(CorsRequest(method: "OPTIONS", origin: nil, requestMethod: "GET"))
        XCTAssertEqual(decision, .decorate(CorsPolicy.AnswerFields(fields: [], isActive: true)))
    }

    func testAllowedOriginsAnswerCarriesItsOriginAndTheExposedFields() {
        let decision = policy().decide(CorsRequest(method: "GET", origin: h5))
        XCTAssertEqual(
            fields(decision),
            [
                "Access-Control-Allow-Origin": h5,
                "Access-Control-Expose-Headers": "X-Request-Id, X-Gateway-Error, Retry-After, WWW-Authenticate",
            ])
    }

    func testCredentialsAreAllowedOnlyWhenConfigured() {
        let on = policy { $0.allowCredentials = true }
        let name = "Access-Control-Allow-Credentials"
        XCTAssertEqual(fields(on.decide(CorsRequest(method: "GET", origin: h5)))[name], "true")
        let preflight = CorsRequest(method: "OPTIONS", origin: h5, requestMethod: "POST")
        XCTAssertEqual(fields(on.decide(preflight))[name], "true")
        XCTAssertNil(fields(policy().decide(CorsRequest(method: "GET", origin: h5)))[name])
    }

    func testAnotherOriginsAndNoOriginsAnswerGetVaryOnly() {
        for origin in ["https://evil.example.net", nil] {
            guard case .decorate(let answer) = policy().decide(CorsRequest(method: "POST", origin: origin)) else {
                return XCTFail("\(String(describing: origin)) was not decorated")
            }
            XCTAssertEqual(answer.lines(after: []), [CorsPolicy.Field("Vary", "Origin")])
        }
    }

    func testVaryOriginIsAddedOnceBesideTheUpstreamsVary() {
        let answer = CorsPolicy.AnswerFields(fields: [], isActive: true)
        XCTAssertEqual(answer.lines(after: [("Vary", "Accept-Encoding")]), [CorsPolicy.Field("Vary", "Origin")])
        XCTAssertEqual(answer.lines(after: [("vary", "accept-encoding, ORIGIN")]), [])
        XCTAssertEqual(answer.lines(after: [("Vary", "*")]), [])
        XCTAssertEqual(CorsPolicy.AnswerFields.none.lines(after: []), [])
    }

    func testWebSocketOriginIsCheckedOnlyWhenAsked() {
        let evil = CorsRequest(method: "GET", origin: "https://evil.example.net", isWebSocketUpgrade: true)
        XCTAssertNotEqual(policy().decide(evil), .refuseWebSocket)
        let checking = policy { $0.checkWebSocketOrigin = true }
        XCTAssertEqual(checking.decide(evil), .refuseWebSocket)
        XCTAssertEqual(
            fields(checking.decide(CorsRequest(method: "GET", origin: h5, isWebSocketUpgrade: true)))[
                "Access-Control-Allow-Origin"], h5)
        // No Origin: a mini-program, a native app or a server, which CORS does not concern.
        XCTAssertEqual(
            checking.decide(CorsRequest(method: "GET", origin: nil, isWebSocketUpgrade: true)),
            .decorate(CorsPolicy.AnswerFields(fields: [], isActive: true)))
    }

    func testTheGatewayOwnsEveryAccessControlField() {
        for name in ["Access-Control-Allow-Origin", "access-control-allow-credentials", "ACCESS-CONTROL-MAX-AGE"] {
            XCTAssertTrue(CorsPolicy.ownsField(name), name)
        }
        for name in ["Access-Control-", "Vary", "X-Access-Control-Allow-Origin", "Origin"] {
            XCTAssertFalse(CorsPolicy.ownsField(name), name)
        }
    }
}
