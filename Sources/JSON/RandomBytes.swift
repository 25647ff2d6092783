/// Random material from `SystemRandomNumberGenerator` (the OS CSPRNG: getrandom on Linux), the one
/// generator behind every identifier, token and key the gateway and its simulator make.
public enum RandomBytes {
    public static func make(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    public static func uint64() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// `byteCount` random bytes as lowercase hex (family ids, jtis, request-id prefixes).
    public static func hex(byteCount: Int) -> String {
        Hex.lowercase(make(byteCount))
    }

    /// `byteCount` random bytes as base64url without padding (refresh tokens).
    public static func base64URL(byteCount: Int) -> String {
        Base64URL.encode(make(byteCount))
    }
}
