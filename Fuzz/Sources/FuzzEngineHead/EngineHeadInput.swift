/// One fuzz input taken apart: byte 0 chooses the reads and the peer, the rest is what the client sent.
struct EngineHeadInput {
    /// What the client sent, each `@tok` replaced by `EngineHeadHarness.token`.
    let bytes: [UInt8]
    /// Where one read ends and the next begins, ascending, inside `bytes`.
    let cuts: [Int]
    let trustedPeer: Bool
    let overTLS: Bool

    init(_ raw: UnsafeRawBufferPointer) {
        let control = raw[0]
        trustedPeer = control & 0x80 != 0
        overTLS = control & 0x40 != 0
        bytes = Self.substitutingToken(Array(raw.dropFirst()))
        let count = bytes.count
        guard count > 1 else {
            cuts = []
            return
        }
        if control & 0x20 != 0 {
            // Reads of a fixed size, from one byte each (every boundary) to 32.
            cuts = Array(stride(from: Int(control & 0x1F) + 1, to: count, by: Int(control & 0x1F) + 1))
        } else {
            // One to eight reads at places that follow from the control byte and the length.
            var state = UInt32(control) &* 2_654_435_761 &+ UInt32(truncatingIfNeeded: count)
            var picked = Set<Int>()
            for _ in 0...Int(control & 7) {
                state = state &* 1_103_515_245 &+ 12345
                picked.insert(1 + Int(state >> 8) % (count - 1))
            }
            cuts = picked.sorted()
        }
    }

    private static let placeholder = Array("@tok".utf8)

    private static func substitutingToken(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= placeholder.count else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == placeholder[0] && bytes[index...].starts(with: placeholder) {
                out.append(contentsOf: EngineHeadHarness.token.utf8)
                index += placeholder.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }
}
