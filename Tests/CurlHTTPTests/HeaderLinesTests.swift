import CCurl
import XCTest

@testable import CurlHTTP

final class HeaderLinesTests: XCTestCase {
    private func lines(_ list: UnsafeMutablePointer<curl_slist>) -> [String] {
        var result: [String] = []
        var node: UnsafeMutablePointer<curl_slist>? = list
        while let current = node {
            result.append(String(cString: current.pointee.data))
            node = current.pointee.next
        }
        return result
    }

    func testLinesInOrderWithLibcurlsSpellingOfEmptyValuesAndItsDefaultsSuppressed() {
        var storage = HeaderLines()
        defer { storage.deallocate() }
        let list = storage.build([("Host", "example"), ("X-Empty", ""), ("X-Two", "a"), ("X-Two", "b")])
        XCTAssertEqual(lines(list), ["Host: example", "X-Empty;", "X-Two: a", "X-Two: b", "Expect:", "Accept:"])
    }

    func testExpectAndAcceptOfTheRequestAreKept() {
        var storage = HeaderLines()
        defer { storage.deallocate() }
        XCTAssertEqual(
            lines(storage.build([("ACCEPT", "text/plain"), ("expect", "100-continue")])),
            ["ACCEPT: text/plain", "expect: 100-continue"])
        XCTAssertEqual(lines(storage.build([])), ["Expect:", "Accept:"])
    }

    func testReuseAfterLargerAndSmallerRequests() {
        var storage = HeaderLines()
        defer { storage.deallocate() }
        let big = (0..<200).map { (name: "X-Field-\($0)", value: String(repeating: "v", count: 100)) }
        XCTAssertEqual(lines(storage.build(big)).count, 202)
        storage.release()  // larger than what is kept: given back
        XCTAssertEqual(lines(storage.build([("A", "1")])), ["A: 1", "Expect:", "Accept:"])
        storage.release()
        let nonASCII = "caf\u{e9} \u{1F600}"
        XCTAssertEqual(lines(storage.build([("B", nonASCII)])), ["B: " + nonASCII, "Expect:", "Accept:"])
    }
}
