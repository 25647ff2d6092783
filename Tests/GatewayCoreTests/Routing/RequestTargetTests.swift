import XCTest

@testable import GatewayCore

final class RequestTargetTests: XCTestCase {
    func testOriginFormSplitsPathAndQuery() throws {
        let target = try XCTUnwrap(RequestTarget("/api/users?id=1&x=%2F"))

        XCTAssertEqual(target.path, "/api/users")
        XCTAssertEqual(target.query, "?id=1&x=%2F")
    }

    func testTargetWithoutQueryHasEmptyQuery() throws {
        let target = try XCTUnwrap(RequestTarget("/api/users"))

        XCTAssertEqual(target.path, "/api/users")
        XCTAssertEqual(target.query, "")
    }

    func testPercentEncodingIsKeptByteForByte() throws {
        let target = try XCTUnwrap(RequestTarget("/files/a%20b%2Fc"))

        XCTAssertEqual(target.path, "/files/a%20b%2Fc")
    }

    func testNonOriginFormIsRejected() {
        XCTAssertNil(RequestTarget("http://example.com/api"))
        XCTAssertNil(RequestTarget("*"))
        XCTAssertNil(RequestTarget("example.com:443"))
        XCTAssertNil(RequestTarget(""))
    }

    func testDotDotSegmentIsRejected() {
        XCTAssertNil(RequestTarget("/public/../private"))
        XCTAssertNil(RequestTarget("/public/.."))
        XCTAssertNil(RequestTarget("/.."))
    }

    func testPercentEncodedDotDotSegmentIsRejected() {
        XCTAssertNil(RequestTarget("/public/%2e%2e/private"))
        XCTAssertNil(RequestTarget("/public/%2E%2E/private"))
        XCTAssertNil(RequestTarget("/public/.%2e/private"))
        XCTAssertNil(RequestTarget("/public/%2e./private"))
    }

    func testSingleDotSegmentIsRejected() {
        XCTAssertNil(RequestTarget("/public/./private"))
        XCTAssertNil(RequestTarget("/public/%2e/private"))
        XCTAssertNil(RequestTarget("/."))
    }

    func testDotsInsideSegmentsAreAccepted() {
        for path in ["/static/app.min.js", "/a/...b/.hidden/c..d", "/a/..."] {
            let target = RequestTarget(path)
            XCTAssertEqual(target?.path, path[...], path)
            XCTAssertEqual(target?.query, "", path)
        }
    }

    func testDotSegmentInQueryIsAccepted() throws {
        let target = try XCTUnwrap(RequestTarget("/api/files?path=../x"))

        XCTAssertEqual(target.path, "/api/files")
    }

    func testControlCharactersSpacesAndBackslashesAreRejected() {
        XCTAssertNil(RequestTarget("/api/a b"))
        XCTAssertNil(RequestTarget("/api/a\tb"))
        XCTAssertNil(RequestTarget("/api/a\r\nX-OpenId: forged"))
        XCTAssertNil(RequestTarget("/api/a\u{0}b"))
        XCTAssertNil(RequestTarget("/api/a\u{7F}b"))
        XCTAssertNil(RequestTarget("/public/..\\private"))
        XCTAssertNil(RequestTarget("/api/x?q=a b"))
    }

    func testEncodedNULInThePathIsRejected() throws {
        // nginx refuses it too: an upstream in C ends the decoded path there (`a.pdf%00.jpg` is `a.pdf`).
        XCTAssertNil(RequestTarget("/files/a.pdf%00.jpg"))
        XCTAssertNil(RequestTarget("/files/%00"))
        XCTAssertEqual(try XCTUnwrap(RequestTarget("/files/%2500")).path, "/files/%2500", "an encoded % followed by 00")
        XCTAssertEqual(try XCTUnwrap(RequestTarget("/files/100%?q=%00")).query, "?q=%00", "the query is the upstream's")
    }

    func testFragmentInPathIsRejected() {
        XCTAssertNil(RequestTarget("/api/x#frag"))
    }

    func testStripPrefixRemovesPrefix() throws {
        let target = try XCTUnwrap(RequestTarget("/api/users/7?x=1"))

        XCTAssertEqual(target.strippingPrefix("/api/"), "/users/7")
        XCTAssertEqual(target.strippingPrefix("/api"), "/users/7")
    }

    func testStripPrefixOfWholePathGivesRootNotEmptyPath() throws {
        XCTAssertEqual(try XCTUnwrap(RequestTarget("/api")).strippingPrefix("/api/"), "/")
        XCTAssertEqual(try XCTUnwrap(RequestTarget("/api/")).strippingPrefix("/api/"), "/")
        XCTAssertEqual(try XCTUnwrap(RequestTarget("/api?x=1")).strippingPrefix("/api/"), "/")
    }

    func testStripRootPrefixKeepsPath() throws {
        XCTAssertEqual(try XCTUnwrap(RequestTarget("/users")).strippingPrefix("/"), "/users")
    }

    func testStripPrefixWithoutSlashInMiddleOfSegmentStillGivesAbsolutePath() throws {
        // `/api` (no trailing slash) matches `/apix`; the forwarded path must still start with `/`,
        // or the upstream URL becomes `http://host:port` + `x`.
        let target = try XCTUnwrap(RequestTarget("/apix/y"))

        XCTAssertEqual(target.strippingPrefix("/api"), "/x/y")
    }
}

extension RequestTargetTests {
    func testDotSegmentWithPathParameterIsRejected() {
        // Tomcat and Spring strip `;params` before normalising: `..;` climbs like `..`.
        XCTAssertNil(RequestTarget("/public/..;/private"))
        XCTAssertNil(RequestTarget("/public/..;jsessionid=1/private"))
        XCTAssertNil(RequestTarget("/public/%2e%2e;/private"))
    }

    func testDotSegmentBehindEncodedSlashIsRejected() {
        // An upstream that decodes `%2F` before normalising would climb out of the matched prefix.
        XCTAssertNil(RequestTarget("/public%2f..%2fprivate"))
        XCTAssertNil(RequestTarget("/public/..%2Fprivate"))
    }

    func testEncodedSlashWithoutDotSegmentIsAccepted() throws {
        let target = try XCTUnwrap(RequestTarget("/files/a%2Fb;v=1"))

        XCTAssertEqual(target.path, "/files/a%2Fb;v=1")
    }
}
