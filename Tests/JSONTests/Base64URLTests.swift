import XCTest

@testable import JSON

final class Base64URLTests: XCTestCase {
    func testRoundTripsEveryLength() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let encoded = Base64URL.encode(bytes)
            XCTAssertFalse(encoded.contains("="))
            XCTAssertEqual(Base64URL.decode(encoded), bytes)
        }
    }

    func testMatchesRFC4648Vectors() {
        XCTAssertEqual(Base64URL.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertEqual(Base64URL.encode(Array("fo".utf8)), "Zm8")
        XCTAssertEqual(Base64URL.encode([0xFB, 0xFF]), "-_8")
    }

    func testRejectsNonCanonicalInput() {
        for text in ["Zm8=", "Zm9v+", "Zm/v", "Z", "Zm9vY", "Zm9", "Zm9 ", "Zm8\n"] where text != "Zm9" {
            XCTAssertNil(Base64URL.decode(text), text)
        }
        XCTAssertNil(Base64URL.decode("Zm9"), "non-zero trailing bits")  // "fo" is Zm8
        XCTAssertNil(Base64URL.decode("Zh"), "non-zero trailing bits")
    }
}
