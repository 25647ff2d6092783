import Foundation
import XCTest

@testable import GatewayCore

/// `RequestTarget`'s one pass over the bytes (`RequestTarget+Scan`) against the text checks it replaced, kept here as
/// the oracle: every rule of the admission check must decide as before.
final class RequestTargetScanTests: XCTestCase {
    func testEveryForbiddenByteIsRejectedInPathAndQuery() {
        for byte in Array(UInt8(0)...0x20) + [0x7F, UInt8(ascii: "\\")] {
            let text = String(decoding: [byte], as: UTF8.self)
            XCTAssertNil(RequestTarget("/a\(text)b"), "path byte \(byte)")
            XCTAssertNil(RequestTarget("/a?q=\(text)"), "query byte \(byte)")
            XCTAssertNil(RequestTarget("/\(text)"), "last byte \(byte)")
        }
    }

    func testEveryOtherASCIIByteIsAcceptedInASegment() throws {
        for byte in UInt8(0x21)...0x7E where !"\\#%?/.".utf8.contains(byte) {
            let text = String(decoding: [byte], as: UTF8.self)
            XCTAssertEqual(try XCTUnwrap(RequestTarget("/a\(text)b"), "byte \(byte)").path, "/a\(text)b"[...])
        }
    }

    func testEncodedNULIsRejectedOnlyInThePath() {
        XCTAssertNil(RequestTarget("/%00"))
        XCTAssertNil(RequestTarget("/a%00"))
        XCTAssertNil(RequestTarget("/a/%00/b"))
        XCTAssertNil(RequestTarget("/a%%00"))
        XCTAssertNotNil(RequestTarget("/a%0"))
        XCTAssertNotNil(RequestTarget("/a%0?0"))
        XCTAssertNotNil(RequestTarget("/a%"))
        XCTAssertNotNil(RequestTarget("/a%25%30%30"))
        XCTAssertNotNil(RequestTarget("/a?%00"))
    }

    func testDotSegmentsAtStartMiddleAndEndAreRejectedPlainOrEncoded() {
        for dots in [".", "..", "%2e", "%2E", "%2e%2E", ".%2e", "%2E.", "..;x", "%2e;"] {
            XCTAssertNil(RequestTarget("/\(dots)"), dots)
            XCTAssertNil(RequestTarget("/\(dots)/a"), dots)
            XCTAssertNil(RequestTarget("/a/\(dots)/b"), dots)
            XCTAssertNil(RequestTarget("/a/\(dots)"), dots)
            XCTAssertNil(RequestTarget("/a/\(dots)?q"), dots)
            XCTAssertNil(RequestTarget("/a%2f\(dots)%2Fb"), dots)
        }
    }

    func testSegmentsThatAreNotOnlyOneOrTwoDotsAreAccepted() {
        for segment in ["...", "....", ".a", "a.", "%2e%2e%2e", ".%2", "%2", "%2g", ";..", "a;..", "%2e%2"] {
            XCTAssertNotNil(RequestTarget("/\(segment)/b"), segment)
            XCTAssertNotNil(RequestTarget("/a/\(segment)"), segment)
        }
    }

    func testEmptyPathAndEmptySegments() throws {
        XCTAssertEqual(try XCTUnwrap(RequestTarget("/")).path, "/")
        XCTAssertEqual(try XCTUnwrap(RequestTarget("/?")).query, "?")
        XCTAssertEqual(try XCTUnwrap(RequestTarget("//a//")).path, "//a//")
        XCTAssertNil(RequestTarget(""))
        XCTAssertNil(RequestTarget("?/a"))
    }

    /// A dot segment next to a combining or prepended mark is still one to an upstream, which splits on the byte:
    /// split by Character these got through, and `/public\u{600}/../private` reached `/private` through a route
    /// with the prefix `/public`.
    func testADotSegmentBesideAMarkIsRefused() {
        for target in [
            "/public/../\u{301}private/secret", "/public\u{600}/../private", "/a/../\u{301}b", "/\u{600}/../b",
            "/a/..;\u{301}/b", "/x\u{600}/%2e%2e/y", "/a/.\u{600}/./b",
        ] {
            XCTAssertNil(RequestTarget(target), target)
        }
        // A mark inside the segment makes it another name, to an upstream as to us.
        for target in ["/a/..\u{301}/b", "/a/\u{301}../b", "/a/..\u{600}/b", "/é/a", "/中文/x"] {
            XCTAssertNotNil(RequestTarget(target), target)
        }
    }

    func testNonASCIIPathsDecideAsTheByteCheck() {
        for target in [
            "/é/../a", "/é/a", "/中文/./x", "/a/é..", "/..é", "/a%2e%2e/é", "/é?q=..", "/\u{301}/..", "/a/é;../b",
            "/\u{600}/../b", "/a/../\u{301}b", "/a/..\u{301}/b", "/a/..;\u{301}/b", "/%2e%2e\u{301}",
        ] {
            XCTAssertEqual(Self.parts(target), Self.oracle(target), target)
        }
    }

    func testInvalidUTF8DecidesAsItsRepairedText() {
        for bytes: [UInt8] in [[0x2F, 0xFF, 0x2F, 0x2E, 0x2E], [0x2F, 0xC3, 0x2E, 0x2E, 0x2F], [0x2F, 0xE2, 0x82]] {
            let target = String(decoding: bytes, as: UTF8.self)
            XCTAssertEqual(Self.parts(target), Self.oracle(target), "\(bytes)")
        }
    }

    /// Every target of up to four bytes after its `/` over the bytes the rules name.
    func testEveryShortTargetDecidesAsTheTextChecks() {
        let alphabet = ["/", ".", "%", "2", "e", "E", "f", "F", "0", ";", "?", "#", "a", " ", "\\"]
        var targets = ["/"]
        var last = ["/"]
        for _ in 1...4 {
            last = last.flatMap { prefix in alphabet.map { prefix + $0 } }
            targets += last
        }
        for target in targets where Self.parts(target) != Self.oracle(target) {
            XCTFail("\(target.debugDescription): \(String(describing: Self.parts(target)))")
        }
    }

    /// Longer targets drawn from the same bytes (a fixed seed: the same ones every run).
    func testLongerTargetsDecideAsTheTextChecks() {
        let alphabet = ["/", ".", "%", "2", "e", "E", "f", "F", "0", ";", "?", "#", "a", "%2e", "%2F", "..", "é"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<5_000 {
            var target = "/"
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            for _ in 0..<(5 + Int(state >> 60)) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                target += alphabet[Int(state >> 33) % alphabet.count]
            }
            XCTAssertEqual(Self.parts(target), Self.oracle(target), target)
        }
    }

    /// The path and query `RequestTarget` takes from `uri`, or nil when it refuses it.
    static func parts(_ uri: String) -> [String]? {
        RequestTarget(uri).map { [String($0.path), String($0.query)] }
    }

    /// `RequestTarget.init` as it was before the one-pass scan, dot segments split on bytes: path and query, or nil.
    static func oracle(_ uri: String) -> [String]? {
        guard uri.utf8.first == UInt8(ascii: "/") else { return nil }
        let queryStart = uri.utf8.firstIndex(of: UInt8(ascii: "?")) ?? uri.endIndex
        let path = uri[..<queryStart]
        let forbidden = uri.utf8.contains { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }
        var encodedNUL = false
        var utf8 = path.utf8[...]
        while let percent = utf8.firstIndex(of: UInt8(ascii: "%")) {
            utf8 = utf8[utf8.index(after: percent)...]
            if utf8.starts(with: "00".utf8) { encodedNUL = true }
        }
        guard !path.utf8.contains(UInt8(ascii: "#")), !oracleDotSegment(path), !forbidden, !encodedNUL else {
            return nil
        }
        return [String(path), String(uri[queryStart...])]
    }

    /// The text check, with its segments split on the `/` byte rather than by Character (see
    /// `testADotSegmentBesideAMarkIsRefused`).
    private static func oracleDotSegment(_ path: Substring) -> Bool {
        guard path.utf8.contains(UInt8(ascii: ".")) || path.utf8.contains(UInt8(ascii: "%")) else { return false }
        let decoded = path.replacingOccurrences(of: "%2e", with: ".", options: .caseInsensitive)
            .replacingOccurrences(of: "%2f", with: "/", options: .caseInsensitive)
        for segment in decoded.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            let bare = segment.prefix(while: { $0 != UInt8(ascii: ";") })
            if bare.elementsEqual(".".utf8) || bare.elementsEqual("..".utf8) { return true }
        }
        return false
    }
}
