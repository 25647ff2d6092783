import Crypto
import JSON

/// How refresh tokens are stored: the lowercase hex SHA-256 of the token's text. Refresh tokens carry
/// 256 random bits, so an unsalted fast hash is enough (no dictionary to attack).
public enum RefreshTokenHash {
    /// The 64-character lowercase hex SHA-256 of `token`'s UTF-8 bytes.
    public static func of(_ token: String) -> String {
        let digest = SHA256.hash(data: Array(token.utf8))
        return Hex.lowercase(digest)
    }
}
