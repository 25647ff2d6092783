/// Random strings from `SystemRandomNumberGenerator` (the OS CSPRNG: getrandom on Linux).
enum RandomIdentifier {
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Base64url (RFC 4648 section 5) without padding.
    static func base64URL(byteCount: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let input = bytes(byteCount)
        var output: [UInt8] = []
        output.reserveCapacity((byteCount * 4 + 2) / 3)
        var index = 0
        while index < input.count {
            let b0 = UInt32(input[index])
            let b1 = index + 1 < input.count ? UInt32(input[index + 1]) : 0
            let b2 = index + 2 < input.count ? UInt32(input[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            let available = min(3, input.count - index)
            for position in 0...available {
                output.append(alphabet[Int(triple >> UInt32(18 - 6 * position) & 0x3F)])
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Lowercase hex, used for family ids (128 bits: unguessable, short enough for logs).
    static func hex(byteCount: Int) -> String {
        bytes(byteCount).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
