import NIOHTTP1
import XCTest

@testable import GatewayCore

final class HopByHopHeadersTests: XCTestCase {
    func testFixedHopByHopNamesAreAlwaysIncluded() {
        let hop = HopByHopHeaders(HTTPHeaders())

        for name in ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"] {
            XCTAssertTrue(hop.contains(name), name)
        }
        XCTAssertFalse(hop.contains("accept"))
        XCTAssertFalse(hop.contains("authorization"))
    }

    func testNamesListedInConnectionAreHopByHopLowerCasedAndTrimmed() {
        let hop = HopByHopHeaders(HTTPHeaders([("Connection", "close,  X-Foo ,x-BAR"), ("connection", "X-Baz")]))

        XCTAssertTrue(hop.contains("x-foo"))
        XCTAssertTrue(hop.contains("x-bar"))
        XCTAssertTrue(hop.contains("x-baz"))
        XCTAssertTrue(hop.contains("close"))
    }

    func testEmptyConnectionListEntriesAddNothing() {
        let hop = HopByHopHeaders(HTTPHeaders([("Connection", " , ,")]))

        XCTAssertEqual(hop.names, HopByHopHeaders.fixed)
    }

    func testFieldNamesListedInAConnectionValueLeaveOutItsOptions() {
        func names(_ value: String) -> [String] {
            var names: [String] = []
            HopByHopHeaders.appendNames(listedIn: value, to: &names)
            return names
        }
        XCTAssertEqual(names("keep-alive"), [])
        XCTAssertEqual(names("Close"), [])
        XCTAssertEqual(names(""), [])
        XCTAssertEqual(names(" , ,\t"), [])
        XCTAssertEqual(names("Keep-Alive, X-Foo ,\tx-BAR\t,close"), ["x-foo", "x-bar"])
        XCTAssertEqual(names("X-Only"), ["x-only"])
    }
}
