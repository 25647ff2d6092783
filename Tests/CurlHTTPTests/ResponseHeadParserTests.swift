import XCTest

@testable import CurlHTTP

final class ResponseHeadParserTests: XCTestCase {
    private func feed(_ lines: [String]) -> (ResponseHeadParser, [ResponseHeadParser.LineResult]) {
        var parser = ResponseHeadParser()
        var results: [ResponseHeadParser.LineResult] = []
        for line in lines {
            var bytes = Array(line.utf8)
            results.append(bytes.withUnsafeMutableBytes { parser.parse(line: UnsafeRawBufferPointer($0)) })
        }
        return (parser, results)
    }

    func testFinalHeadCompletesAtTheBlankLine() {
        let (parser, results) = feed(["HTTP/1.1 201 Created\r\n", "Content-Length:  5 \r\n", "X-A: b\r\n", "\r\n"])
        XCTAssertEqual(results, [.needMoreLines, .needMoreLines, .needMoreLines, .complete])
        XCTAssertEqual(parser.head.status, 201)
        XCTAssertEqual(parser.head.version, "1.1")
        XCTAssertEqual(parser.head.headers.map(\.name), ["Content-Length", "X-A"])
        XCTAssertEqual(parser.head.headers.map(\.value), ["5", "b"])
    }

    func testInterimResponsesAreDropped() {
        let (parser, results) = feed([
            "HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 103 Early Hints\r\n", "Link: </a>\r\n", "\r\n",
            "HTTP/1.1 200 OK\r\n", "X-Final: 1\r\n", "\r\n",
        ])
        XCTAssertEqual(results.last, .complete)
        XCTAssertEqual(results.filter { $0 == .complete }.count, 1)
        XCTAssertEqual(parser.head.status, 200)
        XCTAssertEqual(parser.head.headers.map(\.name), ["X-Final"])
    }

    func testRepeatedFieldsKeepOrderAndSpelling() {
        let (parser, _) = feed(["HTTP/1.0 200 OK\n", "Set-Cookie: a=1\n", "set-cookie: b=2\n", "\n"])
        XCTAssertEqual(parser.head.version, "1.0")
        XCTAssertEqual(parser.head.values(of: "SET-COOKIE"), ["a=1", "b=2"])
        XCTAssertEqual(parser.head.headers.map(\.name), ["Set-Cookie", "set-cookie"])
    }

    func testFoldedLineContinuesThePreviousValue() {
        let (parser, _) = feed(["HTTP/1.1 200 OK\r\n", "X-Long: one\r\n", "\t two\r\n", "\r\n"])
        XCTAssertEqual(parser.head.values(of: "x-long"), ["one two"])
    }

    func testEmptyValueIsKept() {
        let (parser, _) = feed(["HTTP/1.1 204 No Content\r\n", "X-Empty:\r\n", "\r\n"])
        XCTAssertEqual(parser.head.values(of: "X-Empty"), [""])
    }

    func testGarbageIsMalformed() {
        XCTAssertEqual(feed(["HTTP/1.1 abc\r\n"]).1, [.malformed])
        XCTAssertEqual(feed(["\r\n"]).1, [.malformed])
        XCTAssertEqual(feed(["HTTP/1.1 200 OK\r\n", "no colon here\r\n"]).1.last, .malformed)
        XCTAssertEqual(feed(["HTTP/1.1 200 OK\r\n", ": no name\r\n"]).1.last, .malformed)
    }

    func testStatusLineForms() {
        for (line, status, version) in [
            ("HTTP/1.1 200", 200, "1.1"), ("HTTP/2 404 Not Found", 404, "2"),
            ("HTTP/1.1  503  Busy", 503, "1.1"), ("HTTP/1.0 302 Found here", 302, "1.0"),
        ] {
            let (parser, results) = feed([line + "\r\n", "\r\n"])
            XCTAssertEqual(results, [.needMoreLines, .complete], line)
            XCTAssertEqual(parser.head.status, status, line)
            XCTAssertEqual(parser.head.version, version, line)
        }
        for line in ["HTTP/1.1 +20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 20 OK", "HTTP/ 200 OK", "HTTP/1.1", "HTTP/1.1 "] {
            XCTAssertEqual(feed([line + "\r\n"]).1, [.malformed], line)
        }
    }
}
