/// A CIDR block from `trusted_proxies` (`"10.0.0.0/8"`, `"::1/128"`, or a single address).
/// Peers inside one of them may send an `X-Forwarded-For` that the gateway keeps and appends to.
public struct IPAddressRange: Sendable, Equatable {
    /// 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so both families compare the same way.
    public var network: [UInt8]
    public var prefixLength: Int

    public init?(configText text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = Self.parseAddress(parts[0]) else { return nil }
        let isV4 = !parts[0].contains(":")
        var length = 128
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let bits = Int(parts[1]),
                bits <= (isV4 ? 32 : 128)
            else { return nil }
            length = isV4 ? bits + 96 : bits
        }
        network = Self.mask(address, length)
        prefixLength = length
    }

    /// Whether `address` (text form of the peer's IP, v4 or v6) lies in this range.
    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.parseAddress(Substring(address)) else { return false }
        return Self.mask(bytes, prefixLength) == network
    }

    private static func mask(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        var out = bytes
        for index in 0..<16 {
            let bitsHere = max(0, min(8, length - index * 8))
            out[index] &= bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
        }
        return out
    }

    static func parseAddress(_ text: Substring) -> [UInt8]? {
        if !text.contains(":") {
            let octets = text.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4 else { return nil }
            var bytes = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF]
            for octet in octets {
                guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                    let value = UInt8(octet)
                else { return nil }
                bytes.append(value)
            }
            return bytes
        }
        // IPv6, with at most one "::" and an optional dotted IPv4 tail.
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseAddress(piece) else { return nil }
                    bytes += v4.suffix(4)
                    continue
                }
                guard !piece.isEmpty, piece.count <= 4, let value = UInt16(piece, radix: 16) else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 {
            return head.count == 16 ? head : nil
        }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}
