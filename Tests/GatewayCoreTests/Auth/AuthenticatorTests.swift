import Foundation
import NIOHTTP1
import Tokens
import XCTest

@testable import GatewayCore

/// `Authenticator.claims`, the control endpoints' reading of a bearer token (logout, user data, phone). The rows per
/// route `auth` mode moved to the engine's planner (EngineRequestPlannerAuthTests), which decides proxied requests.
final class AuthenticatorTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_700_000_000)
    private var issuer: TokenIssuer!
    private var authenticator: Authenticator!

    override func setUpWithError() throws {
        let ring = try KeyRing(current: TokenKey.hmac(secret: "0123456789abcdef0123456789abcdef", kid: "k1"))
        issuer = TokenIssuer(keyRing: ring, issuer: "gateway", audience: "legacy-api")
        authenticator = Authenticator(
            verifier: AccessTokenVerifier(keyRing: ring, issuer: "gateway", audience: "legacy-api", leeway: 30))
    }

    private func token(unionid: String? = nil, ttl: TimeInterval = 900, issuedAt: Date? = nil) throws -> String {
        try issuer.issue(subject: "o-user", appid: "wx1", unionid: unionid, ttl: ttl, now: issuedAt ?? now).token
    }

    /// The claims' subject, appid, unionid and jti, or the rejection.
    private enum Outcome: Equatable {
        case caller(String, appid: String?, unionid: String?, jti: String?)
        case rejected(AuthRejection)
    }

    private func decide(_ authorization: [String]) -> Outcome {
        switch authenticator.claims(HTTPHeaders(authorization.map { ("Authorization", $0) }), now: now) {
        case .success(let claims):
            return .caller(claims.subject, appid: claims.appid, unionid: claims.unionid, jti: claims.jti)
        case .failure(let rejection): return .rejected(rejection)
        }
    }

    private func isCaller(_ outcome: Outcome) -> Bool {
        if case .caller = outcome { return true }
        return false
    }

    func testValidBearerTokenAuthenticatesWithItsClaims() throws {
        let issued = try issuer.issue(subject: "o-user", appid: "wx1", unionid: "u-1", ttl: 900, now: now)

        let decision = decide(["Bearer \(issued.token)"])

        XCTAssertEqual(decision, .caller("o-user", appid: "wx1", unionid: "u-1", jti: issued.jti))
    }

    func testTokenWithoutUnionIdGivesClaimsWithoutUnionId() throws {
        guard case .caller(_, let appid, let unionid, _) = decide(["Bearer \(try token())"]) else {
            return XCTFail("expected a caller")
        }

        XCTAssertNil(unionid)
        XCTAssertEqual(appid, "wx1")
    }

    func testBearerSchemeIsCaseInsensitive() throws {
        let token = try token()

        for scheme in ["bearer", "BEARER", "BeArEr"] {
            XCTAssertTrue(isCaller(decide(["\(scheme) \(token)"])), scheme)
        }
    }

    func testSeveralSpacesAfterSchemeAreAccepted() throws {
        XCTAssertTrue(isCaller(decide(["Bearer   \(try token())"])))
    }

    func testSpacesAndTabsAroundTheFieldValueAreIgnored() throws {
        let token = try token()

        XCTAssertTrue(isCaller(decide([" \t Bearer \(token)\t "])))
        XCTAssertEqual(decide([" \t "]), .rejected(.missingToken))
        XCTAssertEqual(decide(["Bearer"]), .rejected(.malformedAuthorization))
        XCTAssertEqual(decide(["Bearerx \(token)"]), .rejected(.missingToken))
        XCTAssertEqual(decide(["Bearér \(token)"]), .rejected(.missingToken))
    }

    func testMissingTokenIsRejectedAsMissing() {
        XCTAssertEqual(decide([]), .rejected(.missingToken))
    }

    func testInvalidTokenIsRejected() {
        XCTAssertEqual(decide(["Bearer garbage"]), .rejected(.invalidToken(.malformed)))
    }

    /// RFC 6750 section 3.1: another scheme is "no bearer token", answered with a bare challenge.
    func testOtherSchemeCountsAsMissingBearerToken() {
        XCTAssertEqual(decide(["Basic Zm9vOmJhcg=="]), .rejected(.missingToken))
        XCTAssertEqual(decide(["Token abc"]), .rejected(.missingToken))
        XCTAssertEqual(decide(["Bearertoken"]), .rejected(.missingToken))
    }

    func testBearerWithoutAUsableTokenIsMalformed() {
        XCTAssertEqual(decide(["Bearer"]), .rejected(.malformedAuthorization))
        XCTAssertEqual(decide(["Bearer "]), .rejected(.malformedAuthorization))
    }

    func testTokenWithCharactersOutsideToken68IsMalformed() {
        XCTAssertEqual(decide(["Bearer a b"]), .rejected(.malformedAuthorization))
        XCTAssertEqual(decide(["Bearer a\"b"]), .rejected(.malformedAuthorization))
    }

    func testTwoAuthorizationHeadersAreMalformed() throws {
        let token = try token()

        XCTAssertEqual(decide(["Bearer \(token)", "Bearer \(token)"]), .rejected(.malformedAuthorization))
        XCTAssertEqual(decide(["Bearer \(token)", "Basic Zm9v"]), .rejected(.malformedAuthorization))
    }

    func testEmptySecondAuthorizationHeaderIsStillTwoHeaders() throws {
        // With forward_authorization the upstream would receive both lines; which one it reads is not ours to guess.
        XCTAssertEqual(decide(["Bearer \(try token())", ""]), .rejected(.malformedAuthorization))
    }

    func testExpiredTokenIsInvalid() throws {
        let expired = try token(ttl: 60, issuedAt: now.addingTimeInterval(-3600))

        XCTAssertEqual(decide(["Bearer \(expired)"]), .rejected(.invalidToken(.expired)))
    }

    func testGarbageTokenIsInvalid() {
        XCTAssertEqual(decide(["Bearer not-a-jwt"]), .rejected(.invalidToken(.malformed)))
        XCTAssertEqual(decide(["Bearer a.b.c"]), .rejected(.invalidToken(.malformed)))
    }

    func testTokenSignedWithAnotherSecretIsInvalid() throws {
        let other = try KeyRing(current: TokenKey.hmac(secret: "ffffffffffffffffffffffffffffffff", kid: "k1"))
        let forged = try TokenIssuer(keyRing: other, issuer: "gateway", audience: "legacy-api")
            .issue(subject: "o-admin", ttl: 900, now: now).token

        XCTAssertEqual(decide(["Bearer \(forged)"]), .rejected(.invalidToken(.badSignature)))
    }

    func testRejectionReasonsAreStableLabels() {
        XCTAssertEqual(AuthRejection.missingToken.reason, "missing")
        XCTAssertEqual(AuthRejection.malformedAuthorization.reason, "malformed_header")
        XCTAssertEqual(AuthRejection.invalidToken(.expired).reason, "expired")
    }
}

extension AuthenticatorTests {
    func testLoneEmptyAuthorizationHeaderCountsAsMissing() {
        XCTAssertEqual(decide([""]), .rejected(.missingToken))
    }

    func testCommaInsideOneAuthorizationHeaderIsMalformed() throws {
        let token = try token()

        XCTAssertEqual(decide(["Bearer \(token), Bearer \(token)"]), .rejected(.malformedAuthorization))
    }
}
