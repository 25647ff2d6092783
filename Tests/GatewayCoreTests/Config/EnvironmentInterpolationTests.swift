import XCTest

@testable import GatewayCore

final class EnvironmentInterpolationTests: XCTestCase {
    let interpolation = EnvironmentInterpolation(environment: ["SECRET": "s3cr3t", "EMPTY": ""])

    func testSetVariableIsReplaced() {
        XCTAssertEqual(try interpolation.apply(to: "key=${SECRET}!").get(), "key=s3cr3t!")
    }

    func testDefaultUsedOnlyWhenUnset() {
        XCTAssertEqual(try interpolation.apply(to: "${MISSING:-fallback}").get(), "fallback")
        XCTAssertEqual(try interpolation.apply(to: "${SECRET:-fallback}").get(), "s3cr3t")
        XCTAssertEqual(try interpolation.apply(to: "${EMPTY:-fallback}").get(), "")
        XCTAssertEqual(try interpolation.apply(to: "${MISSING:-}").get(), "")
    }

    func testUnsetVariableWithoutDefaultIsAnError() {
        XCTAssertEqual(interpolation.apply(to: "${MISSING}"), .failure(.unsetVariable("MISSING")))
    }

    func testMalformedReferencesAreErrors() {
        XCTAssertEqual(interpolation.apply(to: "${SECRET"), .failure(.malformed("missing '}' after '${'")))
        guard case .failure(.malformed) = interpolation.apply(to: "${1BAD}") else { return XCTFail() }
        guard case .failure(.malformed) = interpolation.apply(to: "${}") else { return XCTFail() }
    }

    func testDollarWithoutBraceAndEscapedDollarStayLiteral() {
        XCTAssertEqual(try interpolation.apply(to: "cost $5 and $${SECRET}").get(), "cost $5 and ${SECRET}")
    }
}
