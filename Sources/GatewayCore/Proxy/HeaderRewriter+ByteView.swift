/// `HeaderRewriter`'s rules for a field name given as bytes, for the engine's byte view of a head (issue 23).
///
/// `classify(bytes:)` is `classify(_:)`'s table on bytes: going through a `String` per field cost the engine
/// about 5% of its CPU (`ASCIICase.equals` over a String's UTF-8 view, three lookups per answer field). The two are
/// kept equal by `HeaderRewriterByteViewTests`, which runs every name either knows through both.
extension HeaderRewriter {
    public func requestFieldRule(name: UnsafeRawBufferPointer) -> RequestFieldRule {
        if isIdentityHeader(bytes: name) { return .drop }
        switch Self.classify(bytes: name) {
        case .hopByHop: return Self.equals(name, "connection") ? .connection : .drop
        case .authorization: return .authorization
        case .host: return .host
        case .forwardedFor, .forwardedProto, .forwardedHost:
            // The slice trusts no proxy: a client's X-Forwarded-* never reaches the upstream.
            return .drop
        case .gatewayOwned: return Self.equals(name, "x-request-id") ? .requestID : .drop
        case .gatewayMark, .other: return .forward
        }
    }

    public static func responseFieldRule(name: UnsafeRawBufferPointer) -> ResponseFieldRule {
        switch classify(bytes: name) {
        case .hopByHop:
            if equals(name, "transfer-encoding") { return .transferEncoding }
            return equals(name, "connection") ? .connection : .drop
        case .gatewayMark: return .drop
        case .gatewayOwned:
            if equals(name, "content-length") { return .contentLength }
            return equals(name, "x-request-id") ? .requestID : .pass
        default:
            return equals(name, "date") ? .date : .pass
        }
    }

    /// RFC 9110 section 5.1: a field name is a non-empty `token`.
    public static func isValidFieldName(_ name: UnsafeRawBufferPointer) -> Bool {
        !name.isEmpty && name.allSatisfy(HeaderName.isTokenByte)
    }

    /// RFC 9110 section 5.5: visible characters, spaces, tabs and obs-text; nothing that could split a header.
    public static func isValidFieldValue(_ value: UnsafeRawBufferPointer) -> Bool {
        value.allSatisfy { $0 >= 0x20 ? $0 != 0x7F : $0 == 0x09 }
    }

    /// `classify(_:)` on bytes: the same names, lengths and kinds.
    static func classify(bytes name: UnsafeRawBufferPointer) -> RequestHeaderKind {
        switch name.count {
        case 2: if equals(name, "te") { return .hopByHop }
        case 4: if equals(name, "host") { return .host }
        case 6: if equals(name, "expect") { return .gatewayOwned }
        case 7: if equals(name, "trailer") || equals(name, "upgrade") { return .hopByHop }
        case 9: if equals(name, "forwarded") { return .gatewayOwned }
        case 10: if equals(name, "connection") || equals(name, "keep-alive") { return .hopByHop }
        case 12: if equals(name, "x-request-id") { return .gatewayOwned }
        case 13: if equals(name, "authorization") { return .authorization }
        case 14:
            if equals(name, "content-length") { return .gatewayOwned }
            if equals(name, "http2-settings") { return .hopByHop }
        case 15:
            if equals(name, "x-forwarded-for") { return .forwardedFor }
            if equals(name, "x-gateway-error") { return .gatewayMark }
        case 16:
            if equals(name, "x-forwarded-host") { return .forwardedHost }
            if equals(name, "proxy-connection") { return .hopByHop }
        case 17:
            if equals(name, "transfer-encoding") { return .hopByHop }
            if equals(name, "x-forwarded-proto") { return .forwardedProto }
        case 18: if equals(name, "proxy-authenticate") { return .hopByHop }
        case 19: if equals(name, "proxy-authorization") { return .hopByHop }
        default: break
        }
        return .other
    }

    /// Whether `name` folds (any case, `_` for `-`) to one of the identity headers, as `isIdentityHeader` decides.
    func isIdentityHeader(bytes name: UnsafeRawBufferPointer) -> Bool {
        for canonical in identityNames where canonical.utf8.count == name.count {
            var matches = true
            for (index, expected) in canonical.utf8.enumerated() {
                let byte = name[index]
                let folded = byte == UInt8(ascii: "_") ? UInt8(ascii: "-") : ASCIICase.lower(byte)
                if folded != expected {
                    matches = false
                    break
                }
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
