import XCTest

@testable import GatewayCore

/// Issue 22 item 7: no shape of URL, however malformed, brings its password into a message.
final class RedactedURLTests: XCTestCase {
    func testWellFormedURLsKeepTheUserAndLoseThePassword() {
        XCTAssertEqual(RedactedURL.text("postgres://gw:secret@db:5432/gw"), "postgres://gw:<redacted>@db:5432/gw")
        XCTAssertEqual(RedactedURL.text("postgres://gw:p@ss@db/gw"), "postgres://gw:<redacted>@db/gw")
        XCTAssertEqual(RedactedURL.text("http://u:secret@10.0.0.1:80/x"), "http://u:<redacted>@10.0.0.1:80/x")
    }

    func testURLsWithoutAPasswordAreUnchanged() {
        for text in ["sqlite:///var/lib/gw.db", "postgres://gw@db/gw", "https://api.weixin.qq.com", "gateway.db"] {
            XCTAssertEqual(RedactedURL.text(text), text)
        }
    }

    func testEveryMalformedShapeLosesThePassword() {
        for text in [
            "postgres:gw:secret@db/gw",  // no "//"
            "postgres:/gw:secret@db/gw",
            "postgres//gw:secret@db/gw",
            "gw:secret@db/gw",  // no scheme at all
            "gw:secret@db://x",  // "://" after the credentials
            "gw:secret@db/gw?next=http://a@b",  // another "://" and "@" later on
            "postgres://gw:se/cr?et@db/gw",  // an unencoded "/" and "?" in the password
            "postgres://gw:secret@db:99999/gw?sslmode=nope",
            " postgres://gw:secret@db/gw",
            "postgres://db/gw?user=gw&password=secret",
            "postgres://db/gw?sslpassword=secret&sslmode=require",
            "postgres://db/gw?PASSWORD=secret#x",
        ] {
            let redacted = RedactedURL.text(text)
            XCTAssertFalse(redacted.contains("secret") || redacted.contains("se/cr"), "\(text) -> \(redacted)")
            XCTAssertTrue(redacted.contains("<redacted>"), "\(text) -> \(redacted)")
        }
    }

    func testAStoreURLWithoutTheSeparatorIsRedactedInTheConfigError() {
        let text = """
            [[wechat.apps]]
            appid = "wx0000000000000001"
            secret = "s"
            [tokens]
            secret = "0123456789abcdef0123456789abcdef"
            [store]
            url = "postgres:gw:secret@db/gw"
            """
        guard case .failure(let error) = ConfigLoader(environment: [:]).parse(text: text) else {
            return XCTFail("a store url without :// was accepted")
        }
        XCTAssertTrue(error.description.contains("store.url"), error.description)
        XCTAssertFalse(error.description.contains("secret@"), error.description)
    }
}
