import Logging
import XCTest

@testable import GatewayCore

/// Export off: the trace is continued or started without a tracer, and what goes upstream replaces the client's.
final class RequestTracerTests: XCTestCase {
    private let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    func testWithExportOffACallersTraceIsContinuedUnderANewSpan() throws {
        let span = RequestTracer.off.start("GET", incoming: TraceParent(incoming), tracestate: "vendor=1")
        XCTAssertNil(span.span)
        XCTAssertEqual(span.traceID, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertNotEqual(span.forwarded.parentID, 0x00f0_67aa_0ba9_02b7, "the gateway's span is the parent")
        XCTAssertTrue(span.forwarded.isSampled, "the caller's flag is passed on")
        XCTAssertEqual(span.tracestate, "vendor=1")
    }

    func testWithoutAValidParentANewTraceStartsAndTracestateIsDropped() {
        let span = RequestTracer.off.start("GET", incoming: nil, tracestate: "vendor=1")
        XCTAssertNotEqual(span.traceID, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(span.traceID.utf8.count, 32)
        XCTAssertFalse(span.forwarded.isSampled, "nothing records it here")
        XCTAssertNil(span.tracestate, "section 3.3: tracestate is not used without its traceparent")
    }

    func testNewTracesAreSampledByTheRatioOfTheIdRange() {
        XCTAssertNil(RequestTracer.threshold(1), "all")
        XCTAssertEqual(RequestTracer.threshold(0), 0, "none: no id is below 0")
        XCTAssertEqual(RequestTracer.threshold(0.5), 1 << 63)
        let threshold = try? XCTUnwrap(RequestTracer.threshold(0.01))
        var sampled = 0
        for _ in 0..<100_000 where TraceIDSource.traceID().low < threshold ?? 0 { sampled += 1 }
        XCTAssertTrue((500...1500).contains(sampled), "about 1% of new ids: \(sampled)")
    }

    func testTheAccessLogLineCarriesTheTraceID() {
        var entry = AccessLogEntry(time: Date(), requestID: "r", clientAddress: nil, method: "GET", path: "/")
        entry.traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        XCTAssertTrue(entry.jsonLine().contains("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""), entry.jsonLine())
    }

    func testTheTraceIDHalvesWriteTheSameLineAsTheTraceIDText() throws {
        let parent = try XCTUnwrap(TraceParent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
        var text = AccessLogEntry(time: Date(), requestID: "r", clientAddress: nil, method: "GET", path: "/")
        text.traceID = parent.traceIDHex
        var halves = text
        halves.traceID = nil
        halves.traceIDHalves = (parent.traceIDHigh, parent.traceIDLow)
        XCTAssertEqual(halves.jsonLine(), text.jsonLine())
        let line = halves.jsonLine()
        XCTAssertTrue(line.contains("\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\""), line)
        halves.traceIDHalves = nil
        XCTAssertFalse(halves.jsonLine().contains("trace_id"), halves.jsonLine())
    }

    func testTheDroppedCountIsReadFromSwiftOtelsDiagnostics() {
        XCTAssertEqual(
            DroppedSpanCounter.droppedSpans(message: DroppedSpanCounter.failedExport, metadata: ["batch_size": "7"]), 7)
        XCTAssertEqual(
            DroppedSpanCounter.droppedSpans(message: DroppedSpanCounter.queueFull, metadata: ["dropped_count": "3"]), 3)
        XCTAssertEqual(DroppedSpanCounter.droppedSpans(message: "Exported batch.", metadata: ["batch_size": "7"]), 0)
    }

    func testAnUpstreamAddressIsSplitIntoHostAndPort() throws {
        func split(_ text: String) throws -> (String, Int?) {
            RequestSpan.split(try XCTUnwrap(UpstreamURL(configText: text)))
        }
        XCTAssertEqual(try split("http://127.0.0.1:8081").0, "127.0.0.1")
        XCTAssertEqual(try split("http://127.0.0.1:8081").1, 8081)
        XCTAssertEqual(try split("http://[::1]:9000/base").0, "[::1]")
        XCTAssertEqual(try split("https://api.example").1, 443)
    }
}
