/// `HeaderRewriter`'s rules for a field name given as bytes, for the engine's byte view of a head (issue 23).
///
/// `classify(bytes:)` is `classify(_:)`'s table on bytes: going through a `String` per field cost the engine
/// about 5% of its CPU (`ASCIICase.equals` over a String's UTF-8 view, three lookups per answer field). The two are
/// kept equal by `HeaderRewriterByteViewTests`, which runs every name either knows through both.
extension HeaderRewriter {
    public func requestFieldRule(name: UnsafeRawBufferPointer) -> RequestFieldRule {
        if isIdentityHeader(bytes: name) { return .drop }
        guard let known = KnownFieldName.named(name) else { return .forward }
        switch known {
        case .connection: return .connection
        case .authorization: return .authorization
        case .host: return .host
        case .requestID: return .requestID
        // The other hop-by-hop and gateway-owned fields; and the slice trusts no proxy: a client's X-Forwarded-*
        // never reaches the upstream.
        case .te, .trailer, .upgrade, .keepAlive, .http2Settings, .proxyConnection, .transferEncoding,
            .proxyAuthenticate, .proxyAuthorization, .expect, .forwarded, .contentLength, .forwardedFor,
            .forwardedHost, .forwardedProto:
            return .drop
        case .gatewayMark, .date: return .forward
        }
    }

    public static func responseFieldRule(name: UnsafeRawBufferPointer) -> ResponseFieldRule {
        guard let known = KnownFieldName.named(name) else { return .pass }
        switch known {
        case .transferEncoding: return .transferEncoding
        case .connection: return .connection
        case .te, .trailer, .upgrade, .keepAlive, .http2Settings, .proxyConnection, .proxyAuthenticate,
            .proxyAuthorization, .gatewayMark:
            return .drop
        case .contentLength: return .contentLength
        case .requestID: return .requestID
        case .date: return .date
        case .expect, .forwarded, .host, .authorization, .forwardedFor, .forwardedHost, .forwardedProto: return .pass
        }
    }

    /// RFC 9110 section 5.1: a field name is a non-empty `token`. Inlinable, its two masks literals (they are
    /// `HeaderName.tokenBytesLow`/`High`): the engine checks every field of every upstream answer with it, and the
    /// 256-entry table it read before was a lazy global, a `swift_once` check per call from the engine's module.
    @inlinable
    public static func isValidFieldName(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let base = name.baseAddress, !name.isEmpty else { return false }
        var index = 0
        while index < name.count {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            let mask: UInt64 = byte < 64 ? 0x03ff_6cfa_0000_0000 : byte < 128 ? 0x57ff_ffff_c7ff_fffe : 0
            if (mask >> UInt64(byte & 63)) & 1 == 0 { return false }
            index &+= 1
        }
        return true
    }

    /// RFC 9110 section 5.5: visible characters, spaces, tabs and obs-text; nothing that could split a header (no
    /// control byte but the tab, no DEL). Two compares per byte, no table (see `isValidFieldName`).
    @inlinable
    public static func isValidFieldValue(_ value: UnsafeRawBufferPointer) -> Bool {
        guard let base = value.baseAddress else { return true }
        var index = 0
        while index < value.count {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            if byte < 0x20 ? byte != 0x09 : byte == 0x7F { return false }
            index &+= 1
        }
        return true
    }

    /// `classify(_:)` on bytes: the same names, lengths and kinds.
    static func classify(bytes name: UnsafeRawBufferPointer) -> RequestHeaderKind {
        KnownFieldName.named(name)?.kind ?? .other
    }

    /// Whether `name` folds (any case, `_` for `-`) to one of the identity headers, as `isIdentityHeader` decides.
    /// The names are kept as bytes (`identityNames`), so each is a length check and a byte loop.
    func isIdentityHeader(bytes name: UnsafeRawBufferPointer) -> Bool {
        if name.count < 64 && identityNameLengths & (1 << UInt64(name.count)) == 0 { return false }
        for canonical in identityNames where canonical.count == name.count {
            let matches = canonical.withUnsafeBufferPointer { expected in
                for index in 0..<expected.count {
                    let byte = name[index]
                    let folded = byte == UInt8(ascii: "_") ? UInt8(ascii: "-") : ASCIICase.lower(byte)
                    if folded != expected[index] { return false }
                }
                return true
            }
            if matches { return true }
        }
        return false
    }

    /// `name` equals the lower-case `text`, ignoring ASCII case.
    @inline(__always)
    static func equals(_ name: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard name.count == text.utf8CodeUnitCount else { return false }
        let expected = text.utf8Start
        for index in 0..<name.count where ASCIICase.lower(name[index]) != expected[index] { return false }
        return true
    }
}
