import Foundation
import GatewayCore
import Tokens
import XCTest

@testable import Engine

/// The token68 syntax check of the planner's bearer token (RFC 6750 section 2.1) byte by byte, as it stands: letters,
/// digits and `-._~+/=`, `=` anywhere and any number of times; anything else is a malformed Authorization field, and
/// the verifier never sees it.
final class EngineRequestPlannerToken68Tests: XCTestCase {
    private static let rfcBytes = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=".utf8)

    private func rejection(_ authorization: String) throws -> AuthRejection? {
        let runtime = try EnginePlannerFixture.runtime("")
        let decision = EnginePlannerFixture.plan(runtime, "GET /api/x HTTP/1.1", [("Authorization", authorization)])
        guard case .authentication(let rejection) = decision.error else { return nil }
        return rejection
    }

    func testTheTableHoldsExactlyTheRFCBytes() {
        XCTAssertEqual(EngineRequestPlanner.token68Bytes.count, 256)
        for byte in UInt8(0)...UInt8(255) {
            XCTAssertEqual(EngineRequestPlanner.token68Bytes[Int(byte)], Self.rfcBytes.contains(byte), "byte \(byte)")
            let token: [UInt8] = [UInt8(ascii: "a"), byte, UInt8(ascii: "b")]
            let isToken68 = token.withUnsafeBytes { EngineRequestPlanner.isToken68($0) }
            XCTAssertEqual(isToken68, Self.rfcBytes.contains(byte), "byte \(byte)")
        }
    }

    func testTheCheckLooksAtEveryByteIncludingTheFirstAndLast() {
        for token in ["\"abc", "abc\"", "a,b", ",", "ab\u{E9}", "\u{E9}"] {
            XCTAssertFalse(Array(token.utf8).withUnsafeBytes { EngineRequestPlanner.isToken68($0) }, token)
        }
        let long = String(repeating: "a", count: 4096)
        XCTAssertTrue(Array(long.utf8).withUnsafeBytes { EngineRequestPlanner.isToken68($0) })
        XCTAssertFalse(Array((long + "!").utf8).withUnsafeBytes { EngineRequestPlanner.isToken68($0) })
    }

    func testEveryOtherPrintableOrNonASCIIByteInTheTokenIsMalformed() throws {
        let others = (UInt8(0x21)...UInt8(0x7E)).filter { !Self.rfcBytes.contains($0) }.map {
            String(UnicodeScalar($0))
        }
        for other in others + ["\t", "\u{E9}"] {
            XCTAssertEqual(try rejection("Bearer ab\(other)cd"), .malformedAuthorization, other.debugDescription)
            XCTAssertEqual(try rejection("Bearer \(other)abcd"), .malformedAuthorization, other.debugDescription)
        }
    }

    func testEqualsSignsAnywhereAndEveryRFCByteReachTheVerifier() throws {
        let all = String(decoding: Self.rfcBytes.sorted(), as: UTF8.self)
        for token in ["=", "==", "a=b", "=abc", "abc==", "a==b==", all] {
            XCTAssertEqual(try rejection("Bearer \(token)"), .invalidToken(.malformed), token)
        }
    }
}
