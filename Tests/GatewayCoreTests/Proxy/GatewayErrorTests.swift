import CurlHTTP
import Foundation
import Tokens
import XCTest

@testable import GatewayCore

final class GatewayErrorTests: XCTestCase {
    private let everyRejection: [TokenRejection] = [
        .malformed, .unsupportedAlgorithm, .unknownKey, .badSignature, .expired, .notYetValid, .issuedInFuture,
        .wrongIssuer, .wrongAudience, .missingClaim("exp"), .revoked,
    ]

    private func challenge(_ error: GatewayError, realm: String = "gateway") -> String? {
        let challenges = error.headers(realm: realm).filter { $0.0 == "WWW-Authenticate" }
        XCTAssertLessThanOrEqual(challenges.count, 1)
        return challenges.first?.1
    }

    func testEveryErrorMapsToItsStatus() {
        let table: [(GatewayError, UInt)] = [
            (.authentication(.missingToken), 401),
            (.authentication(.invalidToken(.expired)), 401),
            (.authentication(.malformedAuthorization), 400),
            (.badRequestTarget, 400),
            (.malformedRequest, 400),
            (.routeNotFound, 404),
            (.clientTimeout, 408),
            (.bodyTooLarge, 413),
            (.headersTooLarge, 431),
            (.internalError("x"), 500),
            (.unsupportedTransferCoding, 501),
            (.upstreamUnreachable, 502),
            (.upstreamBroken, 502),
            (.upstreamTimeout, 504),
        ]

        for (error, status) in table {
            XCTAssertEqual(error.status.code, status, "\(error)")
        }
    }

    func testOnlyAnswersToUnreadableRequestsCloseTheConnection() {
        XCTAssertTrue(GatewayError.malformedRequest.closesConnection)
        XCTAssertTrue(GatewayError.unsupportedTransferCoding.closesConnection)
        for kept: GatewayError in [
            .badRequestTarget, .routeNotFound, .authentication(.missingToken), .headersTooLarge,
            .upstreamBroken, .upstreamTimeout,
        ] {
            XCTAssertFalse(kept.closesConnection, "\(kept)")
        }
    }

    func testEveryInvalidTokenReasonIs401() {
        for rejection in everyRejection {
            XCTAssertEqual(GatewayError.authentication(.invalidToken(rejection)).status.code, 401, "\(rejection)")
        }
    }

    func testCurlFailuresMapToUpstreamErrors() {
        XCTAssertEqual(GatewayError(CurlError.couldNotConnect("refused")), .upstreamUnreachable)
        XCTAssertEqual(GatewayError(CurlError.timedOut("slow")), .upstreamTimeout)
        XCTAssertEqual(GatewayError(CurlError.brokenResponse("bad")), .upstreamBroken)
    }

    func testMissingTokenChallengeHasRealmAndNoErrorCode() {
        // RFC 6750 section 3.1: a request without credentials gets no error code.
        XCTAssertEqual(challenge(.authentication(.missingToken)), "Bearer realm=\"gateway\"")
    }

    func testMalformedAuthorizationChallengeSaysInvalidRequest() {
        XCTAssertEqual(
            challenge(.authentication(.malformedAuthorization)), "Bearer realm=\"gateway\", error=\"invalid_request\"")
    }

    func testInvalidTokenChallengeSaysInvalidToken() throws {
        let value = try XCTUnwrap(challenge(.authentication(.invalidToken(.expired))))

        XCTAssertTrue(value.hasPrefix("Bearer realm=\"gateway\", error=\"invalid_token\""), value)
        XCTAssertTrue(value.contains("error_description=\"the token has expired\""), value)
    }

    func testChallengeValuesContainOnlyCharactersRFC6750Allows() throws {
        // error_description and realm are quoted-strings limited to %x20-21 / %x23-5B / %x5D-7E: a stray `"`
        // (the claim name in `missingClaim`) would end the value early and corrupt the header.
        let errors =
            [GatewayError.authentication(.missingToken), .authentication(.malformedAuthorization)]
            + everyRejection.map { .authentication(.invalidToken($0)) }
        for error in errors {
            let value = try XCTUnwrap(challenge(error, realm: "my \"realm\"\\"))
            let parameters = try XCTUnwrap(Self.authParameters(value), value)
            for (name, content) in parameters {
                XCTAssertFalse(
                    content.utf8.contains { $0 < 0x20 || $0 > 0x7E || $0 == 0x22 || $0 == 0x5C },
                    "\(name) in \(value)")
            }
            // The quotes inside become apostrophes and the backslash goes: the realm stays readable.
            XCTAssertEqual(parameters["realm"], "my 'realm'", value)
        }
    }

    func testNonAuthenticationErrorsHaveNoChallenge() {
        for error in [GatewayError.routeNotFound, .badRequestTarget, .upstreamUnreachable, .bodyTooLarge] {
            XCTAssertNil(challenge(error), "\(error)")
        }
    }

    func testEveryErrorIsMarkedAsTheGatewaysOwnWithItsCode() {
        // A client replays a request after a token refresh only on a 401 carrying this mark (issue 22 item 12).
        let errors: [GatewayError] =
            [
                .badRequestTarget, .routeNotFound, .authentication(.missingToken),
                .authentication(.malformedAuthorization), .bodyTooLarge, .headersTooLarge, .malformedRequest,
                .unsupportedTransferCoding, .clientTimeout,
                .webSocketNotEnabled, .tooManyTunnels, .upstreamUnreachable, .upstreamTimeout, .upstreamBroken,
                .internalError("x"),
            ] + everyRejection.map { .authentication(.invalidToken($0)) }
        for error in errors {
            let marks = error.headers(realm: "gateway").filter { $0.0 == GatewayError.markField }
            XCTAssertEqual(marks.map(\.1), [error.code], "\(error)")
        }
        XCTAssertEqual(GatewayError.markField, "X-Gateway-Error")
    }

    func testJSONBodyHasErrorDescriptionAndRequestId() throws {
        let body = GatewayError.authentication(.invalidToken(.missingClaim("sub"))).jsonBody(requestID: "req\"1")

        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String])
        XCTAssertEqual(object["error"], "invalid_token")
        XCTAssertEqual(object["error_description"], "the token lacks the \"sub\" claim")
        XCTAssertEqual(object["request_id"], "req\"1")
    }

    func testInternalErrorBodyDoesNotLeakDetails() {
        let body = GatewayError.internalError("curl code 77 /etc/ssl/private").jsonBody(requestID: "r")

        XCTAssertFalse(body.contains("/etc/ssl"))
        XCTAssertTrue(body.contains("\"error\":\"internal_error\""))
    }

    /// Parses `Bearer name="value", name="value"` strictly (no escapes): nil when a quote is unbalanced.
    private static func authParameters(_ challenge: String) -> [String: String]? {
        guard challenge.hasPrefix("Bearer ") else { return nil }
        var rest = Substring(challenge.dropFirst("Bearer ".count))
        var parameters: [String: String] = [:]
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" else {
                return nil
            }
            let name = String(rest[..<equals])
            let valueStart = rest.index(equals, offsetBy: 2)
            guard let close = rest[valueStart...].firstIndex(of: "\"") else { return nil }
            parameters[name] = String(rest[valueStart..<close])
            rest = rest[rest.index(after: close)...]
            if rest.isEmpty { break }
            guard rest.hasPrefix(", ") else { return nil }
            rest = rest.dropFirst(2)
        }
        return parameters
    }
}
