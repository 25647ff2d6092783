import JSON
import SessionStore
import XCTest

final class RefreshTokenTests: XCTestCase {
    func testHashIsLowercaseHexSHA256() {
        // FIPS 180-2 test vector.
        XCTAssertEqual(
            RefreshTokenHash.of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
    }

    func testGeneratedTokensAre256BitBase64URLWithoutPadding() {
        let generator = RefreshTokenGenerator()
        var seen = Set<String>()
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for _ in 0..<200 {
            let token = generator.makeToken()
            XCTAssertEqual(token.count, 43)  // ceil(256 / 6)
            XCTAssertTrue(token.allSatisfy(allowed.contains), token)
            seen.insert(token)
        }
        XCTAssertEqual(seen.count, 200)
    }

    func testGeneratedTokensDecodeToThirtyTwoBytes() throws {
        let token = RefreshTokenGenerator().makeToken()
        let base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "="
        XCTAssertEqual(try XCTUnwrap(Data(base64Encoded: base64)).count, 32)
    }

    func testSessionRecordNeverPrintsSessionKey() {
        let record = SessionRecord(
            familyID: "f", openid: "o", unionid: "u", appid: "wx", sessionKey: "SECRET-KEY-123",
            createdAt: Date(), expiresAt: Date(), revokedAt: nil
        )
        var dumped = ""
        dump(record, to: &dumped)
        for text in [String(describing: record), String(reflecting: record), "\(record)", dumped] {
            XCTAssertFalse(text.contains("SECRET-KEY-123"), text)
            XCTAssertTrue(text.contains("redacted"), text)
        }
    }
}
