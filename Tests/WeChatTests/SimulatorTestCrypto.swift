import Crypto
import CryptoExtras
import Foundation

/// Encrypts open data the way WeChat does, so tests can feed the decryptor.
enum SimulatorTestCrypto {
    static func encrypt(_ plaintext: String, sessionKey: String, iv: Data) throws -> String {
        try AES._CBC.encrypt(
            Data(plaintext.utf8),
            using: SymmetricKey(data: Data(base64Encoded: sessionKey)!),
            iv: AES._CBC.IV(ivBytes: iv)
        ).base64EncodedString()
    }
}
