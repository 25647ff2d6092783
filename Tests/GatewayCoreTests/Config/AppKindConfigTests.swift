import Tokens
import XCTest

@testable import GatewayCore

/// `[[wechat.apps]] kind`: read, defaulting to a mini-program, and refused by its key path when unknown.
final class AppKindConfigTests: XCTestCase {
    private let loader = ConfigLoader(environment: [:])

    private func load(_ kinds: [String?]) -> Result<GatewayConfiguration, ConfigError> {
        var text = "[wechat]\n"
        for (index, kind) in kinds.enumerated() {
            text += "[[wechat.apps]]\nappid = \"wx\(index)\"\nsecret = \"s\"\n"
            if let kind { text += "kind = \"\(kind)\"\n" }
        }
        text += "[tokens]\nsecret = \"0123456789abcdef0123456789abcdef\"\n"
        return loader.parse(text: text)
    }

    func testKindsAreReadAndAbsentMeansMiniprogram() throws {
        let config = try load([nil, "miniprogram", "officialaccount", "website"]).get()
        XCTAssertEqual(config.wechat.apps.map(\.kind), [.miniprogram, .miniprogram, .officialaccount, .website])
        XCTAssertEqual(config.wechat.kind(ofApp: "wx2"), .officialaccount)
        XCTAssertEqual(config.wechat.kind(ofApp: "wx-gone"), .miniprogram)
        XCTAssertEqual(config.wechat.kind(ofApp: nil), .miniprogram)
    }

    func testAnUnknownKindNamesItsKeyPath() {
        guard case .failure(let error) = load([nil, "H5"]) else { return XCTFail("accepted") }
        XCTAssertEqual(error.issues.map(\.path), ["wechat.apps[1].kind"])
        XCTAssertTrue(error.issues[0].message.contains("\"officialaccount\""), error.issues[0].message)
    }

    func testTheKindHeaderIsConfigurableAndMustDifferFromTheOthers() throws {
        let base =
            "[wechat]\n[[wechat.apps]]\nappid = \"wx\"\nsecret = \"s\"\n"
            + "[tokens]\nsecret = \"0123456789abcdef0123456789abcdef\"\n"
        XCTAssertEqual(try loader.parse(text: base).get().identity.appKindHeader, "X-App-Kind")
        let renamed = try loader.parse(text: base + "[identity]\napp_kind_header = \"X-WX-Kind\"\n").get()
        XCTAssertEqual(renamed.identity.appKindHeader, "X-WX-Kind")
        guard case .failure = loader.parse(text: base + "[identity]\napp_kind_header = \"X-AppId\"\n") else {
            return XCTFail("a kind header equal to the appid header was accepted")
        }
    }
}
