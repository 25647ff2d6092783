import Synchronization

/// Request ids: the client's `X-Request-Id` when it is a sane token (so a trace can cross the gateway),
/// otherwise 32 hex digits: a random per-process prefix and a counter. Unique within and across runs
/// without a `getrandom` call per request; ids identify requests, they are not secrets.
public enum RequestID {
    public static func accept(_ value: Substring?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ HeaderName.isTokenByte($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") })
        else { return nil }
        return String(value)
    }

    /// 16 hex digits, fixed for the process.
    private static let prefix: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return hexDigits(generator.next())
    }()

    private static let counter = Atomic<UInt64>(0)

    public static func generate() -> String {
        let (next, _) = counter.add(1, ordering: .relaxed)
        // Written in place: one allocation per id instead of a String per part.
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for index in 0..<16 { buffer[index] = prefix[index] }
            writeHex(next, into: UnsafeMutableBufferPointer(rebasing: buffer[16..<32]))
            return 32
        }
    }

    private static func hexDigits(_ value: UInt64) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 16) { buffer, count in
            writeHex(value, into: buffer)
            count = 16
        }
    }

    /// `value` as 16 lower-case hex digits, zero-padded.
    private static func writeHex(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        var rest = value
        for index in stride(from: 15, through: 0, by: -1) {
            let nibble = UInt8(truncatingIfNeeded: rest & 0xf)
            buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
            rest >>= 4
        }
    }
}
