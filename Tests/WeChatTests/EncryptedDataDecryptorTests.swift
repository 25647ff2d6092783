import Crypto
import CryptoExtras
import Foundation
import XCTest

@testable import WeChat

final class EncryptedDataDecryptorTests: XCTestCase {
    private let appID = "wx0000000000000001"
    private let sessionKeyBytes = Data((0..<16).map { UInt8($0 * 7 + 3) })
    private let ivBytes = Data((0..<16).map { UInt8(200 - $0) })
    private var sessionKey: String { sessionKeyBytes.base64EncodedString() }
    private var iv: String { ivBytes.base64EncodedString() }

    private func encrypt(_ plaintext: String, key: Data? = nil, iv: Data? = nil) throws -> String {
        try AES._CBC.encrypt(
            Data(plaintext.utf8),
            using: SymmetricKey(data: key ?? sessionKeyBytes),
            iv: AES._CBC.IV(ivBytes: iv ?? ivBytes)
        ).base64EncodedString()
    }

    private func userJSON(appid: String) -> String {
        #"{"openId":"oAbc","nickName":"Band+ 微信","watermark":{"timestamp":1700000000,"appid":"\#(appid)"}}"#
    }

    private func assertThrows(
        _ expected: WeChatError,
        file: StaticString = #filePath,
        line: UInt = #line,
        _ body: () throws -> Void
    ) {
        do {
            try body()
            XCTFail("expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error as? WeChatError, expected, file: file, line: line)
        }
    }

    func testDecryptsDataEncryptedWithTheSessionKey() throws {
        let plaintext = userJSON(appid: appID)
        let encrypted = try encrypt(plaintext)
        let result = try EncryptedDataDecryptor(appID: appID).decrypt(
            encryptedData: encrypted, iv: iv, sessionKey: sessionKey)
        XCTAssertEqual(result.text, plaintext)
        XCTAssertEqual(result.object["openId"], .string("oAbc"))
        XCTAssertEqual(result.value["watermark"]?["timestamp"], .int(1_700_000_000))
    }

    /// WeChat's official demo vector (WXBizDataCrypt sample shipped with the open data docs).
    func testDecryptsWeChatOfficialDemoVector() throws {
        let encryptedData =
            "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+"
            + "3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6"
            + "/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs"
            + "8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns"
            + "/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG"
            + "20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
        let result = try EncryptedDataDecryptor(appID: "wx4f4bc4dec97d474b").decrypt(
            encryptedData: encryptedData, iv: "r7BXXKkLb8qrSNn05n0qiA==", sessionKey: "tiihtNczf5v6AKRyjwEUhQ==")
        XCTAssertEqual(result.object["openId"], .string("oGZUI0egBJY1zhBYw2KhdUfwVJJE"))
        XCTAssertEqual(result.object["nickName"], .string("Band"))
        XCTAssertEqual(result.value["watermark"]?["timestamp"], .int(1_477_314_187))
    }

    func testSpaceInBase64IsReportedAsMangledPlus() throws {
        let encrypted = try encrypt(userJSON(appid: appID)).replacingOccurrences(of: "+", with: " ")
        let mangled = encrypted.contains(" ") ? encrypted : "ab c" + encrypted
        assertThrows(.invalidBase64(field: "encryptedData", containsSpace: true)) {
            _ = try EncryptedDataDecryptor(appID: appID).decrypt(
                encryptedData: mangled, iv: iv, sessionKey: sessionKey)
        }
        XCTAssertTrue(WeChatError.invalidBase64(field: "iv", containsSpace: true).description.contains("'+'"))
    }

    func testGarbageBase64IsInvalidBase64WithoutSpaceHint() {
        assertThrows(.invalidBase64(field: "iv", containsSpace: false)) {
            _ = try EncryptedDataDecryptor(appID: appID).decrypt(
                encryptedData: "AAAA", iv: "***", sessionKey: sessionKey)
        }
    }

    func testSessionKeyOfWrongLengthIsRejected() {
        assertThrows(.invalidSessionKeyLength(8)) {
            _ = try EncryptedDataDecryptor(appID: appID).decrypt(
                encryptedData: "AAAA", iv: iv, sessionKey: Data(count: 8).base64EncodedString())
        }
    }

    func testIVOfWrongLengthIsRejected() {
        assertThrows(.invalidIVLength(12)) {
            _ = try EncryptedDataDecryptor(appID: appID).decrypt(
                encryptedData: "AAAA", iv: Data(count: 12).base64EncodedString(), sessionKey: sessionKey)
        }
    }

    func testTruncatedCiphertextIsNotBlockAligned() throws {
        let full = Data(base64Encoded: try encrypt(userJSON(appid: appID)))!
        let truncated = full.prefix(full.count - 3).base64EncodedString()
        assertThrows(.ciphertextNotBlockAligned(full.count - 3)) {
            _ = try EncryptedDataDecryptor(appID: appID).decrypt(
                encryptedData: truncated, iv: iv, sessionKey: sessionKey)
        }
    }

    func testStaleSessionKeyGivesBadPadding() throws {
        // Padding decides with probability ~1 - 1/256 for a wrong key; a fixed pair keeps it deterministic.
        let encrypted = try encrypt(userJSON(appid: appID))
        let otherKey = Data(repeating: 0x42, count: 16).base64EncodedString()
        assertThrows(.badPadding) {
            _ = try EncryptedDataDecryptor(appID: appID).decrypt(
                encryptedData: encrypted, iv: iv, sessionKey: otherKey)
        }
        XCTAssertTrue(WeChatError.badPadding.description.contains("stale"))
    }

    func testPlaintextThatIsNotJSONIsRejected() throws {
        let encrypted = try encrypt("hello, not json")
        assertThrows(.decryptedDataNotJSON) {
            _ = try EncryptedDataDecryptor(appID: appID).decrypt(
                encryptedData: encrypted, iv: iv, sessionKey: sessionKey)
        }
    }

    func testWatermarkOfAnotherAppIsRejected() throws {
        let encrypted = try encrypt(userJSON(appid: "wxOTHER"))
        assertThrows(.watermarkAppIDMismatch(expected: appID, found: "wxOTHER")) {
            _ = try EncryptedDataDecryptor(appID: appID).decrypt(
                encryptedData: encrypted, iv: iv, sessionKey: sessionKey)
        }
        let unmarked = try encrypt(#"{"openId":"x"}"#)
        assertThrows(.watermarkAppIDMismatch(expected: appID, found: nil)) {
            _ = try EncryptedDataDecryptor(appID: appID).decrypt(
                encryptedData: unmarked, iv: iv, sessionKey: sessionKey)
        }
    }

    func testSignatureOverRawDataAndSessionKeyTextIsAccepted() throws {
        let rawData = #"{"nickName":"Band","gender":1}"#
        let signature = Insecure.SHA1.hash(data: Data((rawData + sessionKey).utf8))
            .map { String(format: "%02x", $0) }.joined()
        let decryptor = EncryptedDataDecryptor(appID: appID)
        XCTAssertNoThrow(try decryptor.verifySignature(rawData: rawData, signature: signature, sessionKey: sessionKey))
        let encrypted = try encrypt(userJSON(appid: appID))
        XCTAssertNoThrow(
            try decryptor.decrypt(
                encryptedData: encrypted, iv: iv, sessionKey: sessionKey, rawData: rawData, signature: signature))
    }

    func testTamperedRawDataFailsSignature() throws {
        let rawData = #"{"nickName":"Band","gender":1}"#
        let signature = Insecure.SHA1.hash(data: Data((rawData + sessionKey).utf8))
            .map { String(format: "%02x", $0) }.joined()
        let encrypted = try encrypt(userJSON(appid: appID))
        assertThrows(.badSignature) {
            _ = try EncryptedDataDecryptor(appID: appID).decrypt(
                encryptedData: encrypted, iv: iv, sessionKey: sessionKey,
                rawData: rawData.replacingOccurrences(of: "1", with: "2"), signature: signature)
        }
    }

    func testErrorDescriptionsNeverContainTheSessionKey() throws {
        let cases: [WeChatError] = [
            .invalidBase64(field: "session_key", containsSpace: true), .invalidSessionKeyLength(3),
            .invalidIVLength(3), .ciphertextNotBlockAligned(5), .badPadding, .decryptedDataNotJSON,
            .watermarkAppIDMismatch(expected: appID, found: nil), .badSignature,
        ]
        for error in cases {
            XCTAssertFalse(error.description.contains(sessionKey))
        }
    }

    func testPKCS7PaddingOfFullBlockIsRemoved() throws {
        let padded = Data([1, 2, 3]) + Data(repeating: 16, count: 16)
        XCTAssertEqual(try EncryptedDataDecryptor.removePKCS7Padding(padded), Data([1, 2, 3]))
        XCTAssertThrowsError(try EncryptedDataDecryptor.removePKCS7Padding(Data([1, 2, 3, 0])))
        XCTAssertThrowsError(try EncryptedDataDecryptor.removePKCS7Padding(Data([1, 2, 3, 2])))
    }
}
