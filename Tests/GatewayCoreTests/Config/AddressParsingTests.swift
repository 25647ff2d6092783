import XCTest

@testable import GatewayCore

final class AddressParsingTests: XCTestCase {
    func testListenAddresses() {
        XCTAssertEqual(ListenAddress(configText: "127.0.0.1:8080"), ListenAddress(host: "127.0.0.1", port: 8080))
        XCTAssertEqual(ListenAddress(configText: "[::1]:443"), ListenAddress(host: "::1", port: 443))
        XCTAssertEqual(ListenAddress(configText: "localhost:0"), ListenAddress(host: "localhost", port: 0))
        for bad in [
            "8080", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:65536", "::1:80", "host name:80", "1.2.3.4:8o",
        ] {
            XCTAssertNil(ListenAddress(configText: bad), bad)
        }
    }

    func testUpstreamURLs() throws {
        let plain = try XCTUnwrap(UpstreamURL(configText: "http://127.0.0.1:9001"))
        XCTAssertEqual(plain.url(forPath: "/api/x?a=1"), "http://127.0.0.1:9001/api/x?a=1")
        XCTAssertEqual(plain.url(forPath: "/api/x", query: "?a=1&b"), "http://127.0.0.1:9001/api/x?a=1&b")
        let based = try XCTUnwrap(UpstreamURL(configText: "https://legacy.internal/v1/"))
        XCTAssertEqual(based.url(forPath: "/orders"), "https://legacy.internal/v1/orders")
        let unix = try XCTUnwrap(UpstreamURL(configText: "unix:/run/app.sock"))
        XCTAssertEqual(unix.unixSocketPath, "/run/app.sock")
        XCTAssertEqual(unix.url(forPath: "/x"), "http://localhost/x")
        for bad in [
            "htp://x", "127.0.0.1:9001", "http://", "http://a:b@host", "http://host/p?q=1", "unix:relative",
            "http://host:0", "http://host:99999",
        ] {
            XCTAssertNil(UpstreamURL(configText: bad), bad)
        }
    }

    func testTrustedProxyRanges() throws {
        let v4 = try XCTUnwrap(IPAddressRange(configText: "10.0.0.0/8"))
        XCTAssertTrue(v4.contains("10.1.2.3"))
        XCTAssertFalse(v4.contains("11.0.0.1"))
        XCTAssertFalse(v4.contains("::1"))
        let single = try XCTUnwrap(IPAddressRange(configText: "127.0.0.1"))
        XCTAssertTrue(single.contains("127.0.0.1"))
        XCTAssertFalse(single.contains("127.0.0.2"))
        let v6 = try XCTUnwrap(IPAddressRange(configText: "fd00::/8"))
        XCTAssertTrue(v6.contains("fd12:3456::1"))
        XCTAssertFalse(v6.contains("fe80::1"))
        for bad in ["10.0.0.0/33", "10.0.0/8", "300.1.1.1", "::/129", "abc", "1.2.3.4/"] {
            XCTAssertNil(IPAddressRange(configText: bad), bad)
        }
    }
}
