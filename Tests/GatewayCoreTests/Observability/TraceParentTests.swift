import XCTest

@testable import GatewayCore

/// W3C Trace Context level 1, section 3.2 (`traceparent`) and 3.3 (what a vendor does with it).
final class TraceParentTests: XCTestCase {
    private let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    func testAVersion00ValueIsReadFieldByField() throws {
        let parent = try XCTUnwrap(TraceParent(valid))
        XCTAssertEqual(parent.traceIDHigh, 0x4bf9_2f35_77b3_4da6)
        XCTAssertEqual(parent.traceIDLow, 0xa3ce_929d_0e0e_4736)
        XCTAssertEqual(parent.parentID, 0x00f0_67aa_0ba9_02b7)
        XCTAssertTrue(parent.isSampled)
        XCTAssertEqual(parent.traceIDHex, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(parent.headerValue, valid, "written back exactly as read")
        XCTAssertFalse(try XCTUnwrap(TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")).isSampled)
    }

    func testItIsReadFromPlainBytesAsTheEngineHasThem() {
        let bytes: [UInt8] = Array(valid.utf8)
        XCTAssertEqual(TraceParent(bytes), TraceParent(valid))
        XCTAssertEqual(bytes.withUnsafeBytes { TraceParent($0) }, TraceParent(valid))
    }

    func testInvalidValuesAreRefused() {
        let invalid = [
            "",
            // all-zero trace id and parent id (3.2.2.3, 3.2.2.4)
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            // uppercase hex is not HEXDIGLC
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
            // version ff is forbidden (3.2.2.1)
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            // version 00 is exactly 55 characters
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
            " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            // a later version must still hold the version-00 fields, then a dash if anything follows (3.3)
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ]
        for value in invalid {
            XCTAssertNil(TraceParent(value), value)
        }
    }

    func testALaterVersionIsReadAsVersion00AndPassedOnAs00() throws {
        let future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the-future"
        let later = try XCTUnwrap(TraceParent(future))
        XCTAssertTrue(later.isSampled)
        XCTAssertEqual(later.headerValue, valid, "version 00, only the sampled flag")
        XCTAssertNotNil(TraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
    }

    func testAChildKeepsTheTraceAndFlagAndNamesTheNewParent() throws {
        let child = try XCTUnwrap(TraceParent(valid)).child(spanID: 0xabcd)
        XCTAssertEqual(child.headerValue, "00-4bf92f3577b34da6a3ce929d0e0e4736-000000000000abcd-01")
    }

    func testOnlyOneLineIsTrusted() {
        XCTAssertEqual(TraceParent.incoming([valid]), TraceParent(valid))
        XCTAssertNil(TraceParent.incoming([]))
        XCTAssertNil(TraceParent.incoming([valid, valid]), "a repeated traceparent starts a new trace")
        XCTAssertNil(TraceParent.incoming(["garbage"]))
    }

    func testGeneratedIdsAreValidAndDistinct() {
        var traces = Set<String>()
        var spans = Set<UInt64>()
        for _ in 0..<1000 {
            let id = TraceIDSource.traceID()
            let parent = TraceParent(
                traceIDHigh: id.high, traceIDLow: id.low, parentID: TraceIDSource.spanID(), flags: 0)
            XCTAssertEqual(TraceParent(parent.headerValue), parent, "what the gateway sends is valid")
            traces.insert(parent.traceIDHex)
            spans.insert(parent.parentID)
        }
        XCTAssertEqual(traces.count, 1000)
        XCTAssertEqual(spans.count, 1000)
    }
}
