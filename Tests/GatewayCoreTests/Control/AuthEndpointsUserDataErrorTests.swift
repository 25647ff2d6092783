import XCTest

@testable import GatewayCore
@testable import WeChat

/// `/auth/userinfo` refusals: one answer for every failure found with the session_key (no padding oracle), named
/// answers only for faults in the shape of the client's input.
final class AuthEndpointsUserDataErrorTests: XCTestCase {
    /// The answer to user data refused with `error`.
    private func userDataAnswer(_ error: WeChatError) -> ControlResponse {
        OAuthError(userDataFailure: error).response(requestID: "test", realm: "test")
    }

    func testEveryDecryptionFailureGetsTheSameAnswer() {
        let failures: [WeChatError] = [
            .badPadding, .decryptedDataNotJSON, .watermarkAppIDMismatch(expected: "wx1", found: "wx2"),
            .watermarkAppIDMismatch(expected: "wx1", found: nil), .badSignature, .invalidSessionKeyLength(3),
            .invalidBase64(field: "session_key", containsSpace: false),
        ]
        let answers = failures.map { userDataAnswer($0) }
        for (failure, answer) in zip(failures, answers) {
            XCTAssertEqual(answer.status, answers[0].status, "\(failure)")
            XCTAssertEqual(answer.body, answers[0].body, "\(failure)")
        }
        XCTAssertEqual(answers[0].status, .badRequest)
        for cause in ["padding", "JSON", "watermark", "signature", "wx2"] {
            XCTAssertFalse(answers[0].body.contains(cause), cause)
        }
    }

    func testFaultsInTheInputShapeAreStillNamed() {
        let space = userDataAnswer(.invalidBase64(field: "encryptedData", containsSpace: true))
        XCTAssertTrue(space.body.contains("space"), space.body)
        XCTAssertTrue(userDataAnswer(.invalidIVLength(5)).body.contains("iv decodes to 5 bytes"))
        XCTAssertTrue(userDataAnswer(.ciphertextNotBlockAligned(17)).body.contains("17 bytes"))
    }
}
