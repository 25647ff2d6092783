import XCTest

@testable import GatewayCore

/// `CorsOrigin.normalize`: `[cors] allow_origins` entries as browsers serialise origins (RFC 6454 section 6.1).
final class CorsOriginTests: XCTestCase {
    func testOriginsAreWrittenAsBrowsersSendThem() {
        let cases = [
            "https://h5.example.com": "https://h5.example.com",
            "HTTPS://H5.Example.COM": "https://h5.example.com",
            "https://h5.example.com:443": "https://h5.example.com",
            "http://localhost:80": "http://localhost",
            "http://localhost:5173": "http://localhost:5173",
            "https://h5.example.com:8443": "https://h5.example.com:8443",
            "http://127.0.0.1:8080": "http://127.0.0.1:8080",
            "http://[::1]:3000": "http://[::1]:3000",
        ]
        for (entry, expected) in cases {
            XCTAssertEqual(try? CorsOrigin.normalize(entry).get(), expected, entry)
        }
    }

    func testWildcardAndNullAreRefusedWithTheirReason() {
        XCTAssertEqual(CorsOrigin.normalize("*"), .failure(.wildcard))
        XCTAssertTrue(CorsOrigin.Problem.wildcard.description.contains("credentialed"))
        XCTAssertEqual(CorsOrigin.normalize("null"), .failure(.null))
        XCTAssertEqual(CorsOrigin.normalize("NULL"), .failure(.null))
    }

    func testAnythingButSchemeHostAndPortIsRefused() {
        for entry in [
            "h5.example.com", "https://h5.example.com/", "https://h5.example.com/app", "https://h5.example.com?x",
            "https://h5.example.com#f", "ftp://h5.example.com", "https://", "https://user@h5.example.com",
            "https://h5.example.com:0", "https://h5.example.com:65536", "https://h5.example.com:", "https://h5 x.com",
            "https://[::1", "https://[]", "https://h5.example.com:8a", "",
        ] {
            guard case .failure(.notAnOrigin) = CorsOrigin.normalize(entry) else {
                XCTFail("\(entry) was accepted")
                continue
            }
        }
    }
}
