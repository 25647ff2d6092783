import Crypto
import CryptoExtras
import Foundation
import JSON

/// Decrypts and checks the "open data" a mini-program sends (wx.getUserInfo, legacy phone number),
/// following WeChat's "开放数据校验与解密" (open data signature check and decryption) document.
///
/// Pure: no I/O, no state besides the app id. Promises: each failure is its own `WeChatError`
/// case, no error carries key material, and a result is returned only when the padding is valid,
/// the plaintext is a JSON object and its `watermark.appid` is this app's.
public struct EncryptedDataDecryptor: Sendable {
    /// The app the data must be watermarked for.
    public let appID: String

    public init(appID: String) {
        self.appID = appID
    }

    /// Decrypts `encryptedData` (AES-128-CBC, PKCS#7; key = base64(session_key), iv = base64(iv))
    /// and checks `watermark.appid`. When `rawData` and `signature` are given, checks the
    /// signature first.
    public func decrypt(
        encryptedData: String,
        iv: String,
        sessionKey: String,
        rawData: String? = nil,
        signature: String? = nil
    ) throws(WeChatError) -> DecryptedUserData {
        if let rawData, let signature {
            try verifySignature(rawData: rawData, signature: signature, sessionKey: sessionKey)
        }
        let keyBytes = try Self.decodeBase64(sessionKey, field: "session_key")
        guard keyBytes.count == 16 else { throw .invalidSessionKeyLength(keyBytes.count) }
        let ivBytes = try Self.decodeBase64(iv, field: "iv")
        guard ivBytes.count == 16 else { throw .invalidIVLength(ivBytes.count) }
        let ciphertext = try Self.decodeBase64(encryptedData, field: "encryptedData")
        guard !ciphertext.isEmpty, ciphertext.count % 16 == 0 else {
            throw .ciphertextNotBlockAligned(ciphertext.count)
        }

        let padded: Data
        do {
            // Padding is removed below, not by the library, so a wrong key gets its own clear error.
            padded = try AES._CBC.decrypt(
                ciphertext,
                using: SymmetricKey(data: keyBytes),
                iv: AES._CBC.IV(ivBytes: ivBytes),
                noPadding: true
            )
        } catch {
            throw .badPadding
        }
        let plaintext = try Self.removePKCS7Padding(padded)

        guard let json = JSONValue.parse(plaintext), case .object = json else {
            throw .decryptedDataNotJSON
        }
        let found = json["watermark"]?["appid"]?.stringValue
        guard found == appID else {
            throw .watermarkAppIDMismatch(expected: appID, found: found)
        }
        return DecryptedUserData(json: plaintext, value: json)
    }

    /// Checks `signature == sha1(rawData + session_key)` in lowercase hex, where session_key is
    /// the base64 text as received from jscode2session, not its bytes (WeChat "数据签名校验").
    public func verifySignature(rawData: String, signature: String, sessionKey: String) throws(WeChatError) {
        let expected = Hex.lowercase(Insecure.SHA1.hash(data: Data((rawData + sessionKey).utf8)))
        guard Self.constantTimeEquals(Array(expected.utf8), Array(signature.lowercased().utf8)) else {
            throw .badSignature
        }
    }

    static func decodeBase64(_ text: String, field: String) throws(WeChatError) -> Data {
        guard let data = Data(base64Encoded: text) else {
            throw .invalidBase64(field: field, containsSpace: text.contains(" "))
        }
        return data
    }

    /// PKCS#7 (RFC 5652 section 6.3): the last byte n (1...16) repeats n times.
    static func removePKCS7Padding(_ data: Data) throws(WeChatError) -> Data {
        guard let last = data.last, (1...16).contains(last), Int(last) <= data.count else {
            throw .badPadding
        }
        let count = Int(last)
        guard data.suffix(count).allSatisfy({ $0 == last }) else { throw .badPadding }
        return Data(data.dropLast(count))
    }

    /// Compares without an early exit so the time taken does not reveal how many bytes matched.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }
}
