import JSON

/// A W3C Trace Context `traceparent` value (https://www.w3.org/TR/trace-context/, level 1, section 3.2): which
/// trace a request belongs to, which span called it, and whether that caller sampled it. Pure and parsed from
/// plain bytes, so the engine reads the field in place.
public struct TraceParent: Sendable, Hashable {
    /// The 16-byte trace id, most significant half first. Never all zero (section 3.2.2.3).
    public var traceIDHigh: UInt64
    public var traceIDLow: UInt64
    /// The 8-byte id of the caller's span, the parent of ours. Never all zero (section 3.2.2.4).
    public var parentID: UInt64
    /// `trace-flags` as received (section 3.2.2.5); only `sampled` (bit 0) has a meaning in version 00.
    public var flags: UInt8

    public init(traceIDHigh: UInt64, traceIDLow: UInt64, parentID: UInt64, flags: UInt8) {
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.parentID = parentID
        self.flags = flags
    }

    /// Whether the caller may have recorded its span (section 3.2.2.5.1).
    public var isSampled: Bool { flags & 0x01 != 0 }

    /// Parses one `traceparent` field value. Nil for anything section 3.2 calls invalid: a version that is not two
    /// lowercase hex digits or is `ff`; for version 00 anything but exactly 55 characters; for a later version fewer
    /// than 55 characters or a 56th that is not `-` (section 3.3: "parse ... as if it were version 00" and ignore
    /// what follows); uppercase hex; an all-zero trace id or parent id.
    public init?(_ value: some Collection<UInt8>) {
        guard value.count >= 55 else { return nil }
        var bytes = value.makeIterator()
        func hex(_ digits: Int) -> UInt64? {
            var result: UInt64 = 0
            for _ in 0..<digits {
                guard let byte = bytes.next(), let nibble = Self.nibble(byte) else { return nil }
                result = result << 4 | UInt64(nibble)
            }
            return result
        }
        func dash() -> Bool { bytes.next() == UInt8(ascii: "-") }
        guard let version = hex(2), version != 0xff, dash(),
            let high = hex(16), let low = hex(16), dash(),
            let parent = hex(16), dash(),
            let flags = hex(2)
        else { return nil }
        if version == 0 {
            guard value.count == 55 else { return nil }
        } else if value.count > 55 {
            guard bytes.next() == UInt8(ascii: "-") else { return nil }
        }
        guard high | low != 0, parent != 0 else { return nil }
        self.init(traceIDHigh: high, traceIDLow: low, parentID: parent, flags: UInt8(flags))
    }

    public init?(_ text: String) {
        self.init(text.utf8)
    }

    /// The one `traceparent` of a request's field lines: nil when there is none, or more than one (a sender that
    /// repeats the field cannot be trusted to mean either copy), or it is invalid. Then the gateway starts a new
    /// trace (section 3.2: "If the vendor failed to parse traceparent, it MUST NOT attempt to parse tracestate").
    public static func incoming(_ lines: [String]) -> TraceParent? {
        guard lines.count == 1 else { return nil }
        return TraceParent(lines[0])
    }

    /// The 32 lowercase hex digits of the trace id: what the access log's `trace_id` holds.
    public var traceIDHex: String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            Hex.write(traceIDHigh, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<16]))
            Hex.write(traceIDLow, into: UnsafeMutableBufferPointer(rebasing: buffer[16..<32]))
            return 32
        }
    }

    /// The value to send on, always in version 00 (section 3.3: a vendor propagates the version it speaks), with
    /// `parentID` as the parent: the caller of the next hop. Only the sampled flag is passed on, the one flag version
    /// 00 defines (section 3.2.2.5: other bits are not set by a version-00 sender).
    public var headerValue: String {
        String(unsafeUninitializedCapacity: Self.headerValueCount) { buffer in
            write(into: buffer)
            return Self.headerValueCount
        }
    }

    public static let headerValueCount = 55

    /// `headerValue` written into `buffer` (at least `headerValueCount` bytes): no `String` on the engine's path.
    public func write(into buffer: UnsafeMutableBufferPointer<UInt8>) {
        buffer[0] = UInt8(ascii: "0")
        buffer[1] = UInt8(ascii: "0")
        buffer[2] = UInt8(ascii: "-")
        Hex.write(traceIDHigh, into: UnsafeMutableBufferPointer(rebasing: buffer[3..<19]))
        Hex.write(traceIDLow, into: UnsafeMutableBufferPointer(rebasing: buffer[19..<35]))
        buffer[35] = UInt8(ascii: "-")
        Hex.write(parentID, into: UnsafeMutableBufferPointer(rebasing: buffer[36..<52]))
        buffer[52] = UInt8(ascii: "-")
        buffer[53] = UInt8(ascii: "0")
        buffer[54] = isSampled ? UInt8(ascii: "1") : UInt8(ascii: "0")
    }

    /// This trace with `spanID` as the parent, as the next hop sees it.
    public func child(spanID: UInt64) -> TraceParent {
        TraceParent(traceIDHigh: traceIDHigh, traceIDLow: traceIDLow, parentID: spanID, flags: flags & 0x01)
    }

    /// Lowercase hex only (section 3.2.2.1: `HEXDIGLC`); uppercase is invalid, not folded.
    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
