/// `HeaderRewriter`'s rules for a field name given as bytes, for the engine's byte view of a head (issue 23).
///
/// The name is made a `String` to reuse `classify` and the identity names as they are: a name of up to 15 bytes is a
/// small string, stored inline without an allocation, and nearly every field name is that short.
extension HeaderRewriter {
    public func requestFieldRule(name: UnsafeRawBufferPointer) -> RequestFieldRule {
        let text = String(decoding: name, as: UTF8.self)
        for canonical in identityNames where ASCIICase.equalsCanonical(text, canonical) { return .drop }
        switch Self.classify(text) {
        case .hopByHop: return ASCIICase.equals(text, "connection") ? .connection : .drop
        case .authorization: return .authorization
        case .host: return .host
        case .forwardedFor, .forwardedProto, .forwardedHost:
            // The slice trusts no proxy: a client's X-Forwarded-* never reaches the upstream.
            return .drop
        case .gatewayOwned: return ASCIICase.equals(text, "x-request-id") ? .requestID : .drop
        case .gatewayMark, .other: return .forward
        }
    }

    public static func responseFieldRule(name: UnsafeRawBufferPointer) -> ResponseFieldRule {
        let text = String(decoding: name, as: UTF8.self)
        switch classify(text) {
        case .hopByHop:
            if ASCIICase.equals(text, "transfer-encoding") { return .transferEncoding }
            return ASCIICase.equals(text, "connection") ? .connection : .drop
        case .gatewayMark: return .drop
        case .gatewayOwned:
            if ASCIICase.equals(text, "content-length") { return .contentLength }
            return ASCIICase.equals(text, "x-request-id") ? .requestID : .pass
        default:
            return name.count == 4 && ASCIICase.equals(text, "date") ? .date : .pass
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
}
