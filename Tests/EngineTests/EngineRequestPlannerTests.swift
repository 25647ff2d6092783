import XCTest

@testable import Engine

/// The planner's byte rules that are not `GatewayCore`'s own.
final class EngineRequestPlannerTests: XCTestCase {
    func testToken68MasksHoldExactlyRFC6750Characters() {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=".utf8)
        for byte in UInt8(0)...UInt8(127) {
            let inMask =
                byte < 64
                ? (EngineRequestPlanner.token68Low >> UInt64(byte)) & 1 != 0
                : (EngineRequestPlanner.token68High >> UInt64(byte - 64)) & 1 != 0
            XCTAssertEqual(inMask, allowed.contains(byte), "byte \(byte)")
        }
    }
}
