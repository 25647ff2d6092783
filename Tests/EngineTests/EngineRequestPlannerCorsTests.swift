import Foundation
import GatewayCore
import XCTest

@testable import Engine

/// Where CORS sits among the engine's request phases (moved from `RequestPlannerCorsTests`): the worker asks
/// `corsDecision` before the control plane, routing and authentication; a preflight is answered there
/// (`EngineWorker.answerCors`), and every other decision carries the fields its answer gets (`answerFields`).
final class EngineRequestPlannerCorsTests: XCTestCase {
    private let h5 = "https://h5.example.com"
    /// CORS on, and no field for the answer: a refused preflight's, or an answer before CORS could decide.
    private var activeWithoutFields: CorsPolicy.AnswerFields {
        var fields = CorsPolicy.AnswerFields.none
        fields.isActive = true
        return fields
    }

    private func settings(cors: Bool = true) throws -> EngineSettings {
        let runtime = try EnginePlannerFixture.runtime(cors ? "\n[cors]\nallow_origins = [\"\(h5)\"]\n" : "")
        return EngineSettings(runtime: runtime, accessLogger: nil)
    }

    /// The CORS decision for the head, and the planner's decision when the worker goes on to plan it.
    private func decide(
        _ settings: EngineSettings, _ requestLine: String, _ fields: [(String, String)], host: String? = "gw.example"
    ) -> (cors: CorsPolicy.Decision?, admission: GatewayError?, plan: RequestDecision) {
        EnginePlannerFixture.withHead(requestLine, fields, host: host) { head, buffer in
            var rules: [RequestFieldRule] = []
            return (
                settings.planner.corsDecision(head, in: buffer), settings.planner.admissionRefusal(head, in: buffer),
                settings.planner.plan(head, in: buffer, rules: &rules, now: Date())
            )
        }
    }

    private func preflightFields(_ origin: String) -> [(String, String)] {
        [("Origin", origin), ("Access-Control-Request-Method", "POST")]
    }

    func testPreflightIsAnsweredBeforeAuthenticationOnAnyPath() throws {
        let settings = try settings()
        for target in ["/api/orders", "/auth/login", "/nowhere"] {
            let decided = decide(settings, "OPTIONS \(target) HTTP/1.1", preflightFields(h5))
            guard case .answerPreflight(let fields) = decided.cors else {
                return XCTFail("\(target): \(String(describing: decided.cors))")
            }
            XCTAssertTrue(fields.contains(CorsPolicy.Field("Access-Control-Allow-Origin", h5)), target)
            XCTAssertNil(decided.admission, target)
        }
    }

    /// RFC 9112 section 3.2 comes first: a preflight without exactly one Host is not answered 204 but left to the
    /// planner, which answers 400, with CORS on and no fields.
    func testPreflightWithoutExactlyOneHostIsLeftToThePlannersRefusal() throws {
        let settings = try settings()
        for (fields, host) in [(preflightFields(h5), nil), (preflightFields(h5) + [("Host", "b.example")], "a")] {
            let decided = decide(settings, "OPTIONS /api/orders HTTP/1.1", fields, host: host)
            XCTAssertEqual(decided.admission, .malformedRequest)
            XCTAssertEqual(decided.plan.error, .malformedRequest)
            XCTAssertEqual(EngineRequestPlanner.answerFields(decided.cors), activeWithoutFields)
        }
    }

    func testPreflightFromAnotherOriginIsRefusedHere() throws {
        let decided = decide(
            try settings(), "OPTIONS /api/orders HTTP/1.1", preflightFields("https://evil.example.net"))
        XCTAssertEqual(decided.cors, .refusePreflight)
        XCTAssertEqual(EngineRequestPlanner.answerFields(decided.cors), activeWithoutFields)
    }

    func testGatewaysOwnRefusalCarriesTheAllowedOrigin() throws {
        let decided = decide(try settings(), "GET /api/orders HTTP/1.1", [("Origin", h5)])
        XCTAssertEqual(decided.plan.error?.status, .unauthorized)
        XCTAssertEqual(
            EngineRequestPlanner.answerFields(decided.cors).fields.first,
            CorsPolicy.Field("Access-Control-Allow-Origin", h5))
    }

    func testForwardedRequestCarriesTheFieldsForItsAnswer() throws {
        let decided = decide(try settings(), "GET /open/x HTTP/1.1", [("Origin", h5)])
        XCTAssertNotNil(decided.plan.forward)
        let fields = EngineRequestPlanner.answerFields(decided.cors)
        XCTAssertTrue(fields.isActive)
        XCTAssertEqual(fields.fields.first?.value, h5)
    }

    func testWithoutCorsAPreflightIsAnOrdinaryRequest() throws {
        let decided = decide(try settings(cors: false), "OPTIONS /open/x HTTP/1.1", preflightFields(h5))
        XCTAssertNil(decided.cors)
        XCTAssertNotNil(decided.plan.forward)
        XCTAssertEqual(EngineRequestPlanner.answerFields(decided.cors), .none)
    }
}
