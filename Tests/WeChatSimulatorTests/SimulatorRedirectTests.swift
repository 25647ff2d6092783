import XCTest

@testable import WeChatSimulator

/// Which redirect_uri an authorize page accepts, and how code and state are added to it.
final class SimulatorRedirectTests: XCTestCase {
    func testLoopbackHttpAndHttpsAreAccepted() {
        for uri in [
            "http://127.0.0.1:8080/cb", "https://localhost/cb?x=1", "http://h5.localhost:3000/", "http://[::1]:9/a",
            "HTTP://127.0.0.2",
        ] {
            XCTAssertNotNil(SimulatorRedirect(uri, allowedHosts: []), uri)
        }
    }

    func testOtherHostsNeedToBeNamed() {
        XCTAssertNil(SimulatorRedirect("https://h5.example.com/cb", allowedHosts: []))
        XCTAssertNotNil(SimulatorRedirect("https://h5.example.com/cb", allowedHosts: ["H5.example.com"]))
        XCTAssertNil(SimulatorRedirect("https://h5.example.com.evil.test/", allowedHosts: ["h5.example.com"]))
    }

    func testTricksAndNonURLsAreRefused() {
        for uri: String? in [
            nil, "", "/relative", "//127.0.0.1/x", "javascript:alert(1)", "ftp://127.0.0.1/",
            "http://127.0.0.1@evil.test/", "http://evil.test\\@127.0.0.1/", "http://127.0.0.1/a b",
            "http://127.0.0.1/\r\nSet-Cookie:x", "http://127.0.0.1:80x/", "http://127.0.0.1.evil.test/", "http://",
            "http://[::1/", "http://1270.0.0.1/",
        ] {
            XCTAssertNil(SimulatorRedirect(uri, allowedHosts: []), String(describing: uri))
        }
    }

    func testCodeAndStateAreAddedBeforeTheFragmentWithStateUnchanged() throws {
        let plain = try XCTUnwrap(SimulatorRedirect("http://127.0.0.1:3000/cb", allowedHosts: []))
        XCTAssertEqual(plain.location(code: "C1", state: "s-1_x"), "http://127.0.0.1:3000/cb?code=C1&state=s-1_x")
        let query = try XCTUnwrap(SimulatorRedirect("http://127.0.0.1/cb?a=1#/login", allowedHosts: []))
        XCTAssertEqual(
            query.location(code: "C", state: "a b&c"), "http://127.0.0.1/cb?a=1&code=C&state=a%20b%26c#/login")
        XCTAssertEqual(plain.location(code: "C", state: ""), "http://127.0.0.1:3000/cb?code=C&state=")
    }
}
