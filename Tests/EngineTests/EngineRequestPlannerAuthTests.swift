import Foundation
import GatewayCore
import Tokens
import XCTest

@testable import Engine

/// The bearer token as the engine's planner reads it from the head's bytes (RFC 6750 section 2.1), per route `auth`
/// mode, moved from `AuthenticatorTests` when `Authenticator.authenticate(headers:)` of the NIO path was deleted:
/// exactly one Authorization field, the scheme in any case, spaces, a token68; another scheme is no token at all.
final class EngineRequestPlannerAuthTests: XCTestCase {
    private var runtime: GatewayRuntime!

    override func setUpWithError() throws {
        runtime = try EnginePlannerFixture.runtime(
            """
            [[routes]]
            prefix = "/maybe/"
            upstreams = ["http://127.0.0.1:9006"]
            auth = "optional"
            """)
    }

    private func issue(
        unionid: String? = nil, ttl: TimeInterval = 900, now: Date = Date(), secret: String? = nil
    ) throws -> IssuedToken {
        let tokens = runtime.config.tokens
        var ring = try tokens.makeKeyRing().get()
        // Another secret under the same key id: a forged signature, not an unknown key.
        if let secret { ring = try KeyRing(current: TokenKey.hmac(secret: secret, kid: ring.current.kid)) }
        return try TokenIssuer(keyRing: ring, issuer: tokens.issuer, audience: tokens.audience)
            .issue(subject: "o-user", appid: "wx1", unionid: unionid, ttl: ttl, now: now)
    }

    private func token() throws -> String { try issue().token }

    /// The decision for `authorization` field values on a route with that `mode` (`/api/`, `/maybe/`, `/open/`).
    private func decide(_ authorization: [String], mode: RouteConfig.AuthMode = .required) -> RequestDecision {
        let prefix = ["required": "/api/", "optional": "/maybe/", "none": "/open/"][mode.rawValue]!
        return EnginePlannerFixture.plan(
            runtime, "GET \(prefix)x HTTP/1.1", authorization.map { ("Authorization", $0) })
    }

    private func rejection(_ authorization: [String], mode: RouteConfig.AuthMode = .required) -> AuthRejection? {
        guard case .authentication(let rejection) = decide(authorization, mode: mode).error else { return nil }
        return rejection
    }

    /// Forwarded with a verified caller (true), forwarded anonymously (false), or not forwarded (nil).
    private func forwardsCaller(_ authorization: [String], mode: RouteConfig.AuthMode = .required) -> Bool? {
        decide(authorization, mode: mode).forward.map { $0.claims != nil }
    }

    func testAValidBearerTokenForwardsItsClaims() throws {
        let issued = try issue(unionid: "u-1")
        let claims = try XCTUnwrap(decide(["Bearer \(issued.token)"]).forward?.claims)
        XCTAssertEqual(claims.subject, "o-user")
        XCTAssertEqual(claims.unionid, "u-1")
        XCTAssertEqual(claims.appid, "wx1")
        XCTAssertEqual(claims.jti, issued.jti)
        XCTAssertNil(decide(["Bearer \(try token())"]).forward?.claims?.unionid)
    }

    func testTheSchemeIsCaseInsensitiveAndSpacesAfterItAndAroundTheValueAreAccepted() throws {
        let token = try token()
        let values = ["bearer", "BEARER", "BeArEr", "Bearer  "].map { "\($0) \(token)" } + [" \t Bearer \(token)\t "]
        for value in values {
            XCTAssertEqual(forwardsCaller([value]), true, value)
        }
    }

    func testAnotherSchemeCountsAsNoBearerToken() throws {
        let token = try token()
        // RFC 6750 section 3.1: another scheme is "no bearer token", answered with a bare challenge.
        for value in ["Basic Zm9vOmJhcg==", "Token abc", "Bearertoken", "Bearerx \(token)", "Bearér \(token)", " \t "] {
            XCTAssertEqual(rejection([value]), .missingToken, value)
        }
        XCTAssertEqual(forwardsCaller(["Basic Zm9vOmJhcg=="], mode: .optional), false)
    }

    func testMissingTokenIsRefusedOnARequiredRouteAndAnonymousOnAnOptionalOne() {
        XCTAssertEqual(rejection([]), .missingToken)
        XCTAssertEqual(forwardsCaller([], mode: .optional), false)
        XCTAssertEqual(rejection([""]), .missingToken, "a lone empty field is no token")
        XCTAssertEqual(forwardsCaller([""], mode: .optional), false)
    }

    func testOptionalRouteAuthenticatesAValidTokenAndRefusesAnInvalidOne() throws {
        XCTAssertEqual(forwardsCaller(["Bearer \(try token())"], mode: .optional), true)
        XCTAssertEqual(rejection(["Bearer garbage"], mode: .optional), .invalidToken(.malformed))
    }

    func testNoneModeIgnoresTokensEvenInvalidOnes() throws {
        for value in [[], ["Bearer garbage"], ["Basic Zm9vOmJhcg=="], ["Bearer \(try token())"]] {
            XCTAssertEqual(forwardsCaller(value, mode: .none), false, "\(value)")
        }
    }

    func testBearerWithoutAUsableTokenIsMalformed() throws {
        for value in ["Bearer", "Bearer ", "Bearer a b", "Bearer a\"b", "Bearer \(try token()), Bearer x"] {
            XCTAssertEqual(rejection([value]), .malformedAuthorization, value)
        }
    }

    func testTwoAuthorizationFieldsAreMalformedEvenWhenTheSecondIsEmpty() throws {
        let token = try token()
        XCTAssertEqual(rejection(["Bearer \(token)", "Bearer \(token)"]), .malformedAuthorization)
        XCTAssertEqual(rejection(["Bearer \(token)", "Basic Zm9v"], mode: .optional), .malformedAuthorization)
        // With forward_authorization the upstream would receive both lines; which one it reads is not ours to guess.
        XCTAssertEqual(rejection(["Bearer \(token)", ""]), .malformedAuthorization)
    }

    func testExpiredGarbageAndForeignTokensAreInvalid() throws {
        let expired = try issue(ttl: 60, now: Date().addingTimeInterval(-3600)).token
        XCTAssertEqual(rejection(["Bearer \(expired)"]), .invalidToken(.expired))
        XCTAssertEqual(rejection(["Bearer not-a-jwt"]), .invalidToken(.malformed))
        XCTAssertEqual(rejection(["Bearer a.b.c"]), .invalidToken(.malformed))
        let forged = try issue(secret: "ffffffffffffffffffffffffffffffff").token
        XCTAssertEqual(rejection(["Bearer \(forged)"]), .invalidToken(.badSignature))
    }

    func testRejectionReasonsAreStableLabels() {
        XCTAssertEqual(AuthRejection.missingToken.reason, "missing")
        XCTAssertEqual(AuthRejection.malformedAuthorization.reason, "malformed_header")
        XCTAssertEqual(AuthRejection.invalidToken(.expired).reason, "expired")
    }
}
