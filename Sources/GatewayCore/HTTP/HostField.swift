/// The `Host` field's value check (RFC 9110 section 7.2: `uri-host [ ":" port ]`), by the same byte set as
/// Go's `httpguts.ValidHostHeader`, which oauth2-proxy applies.
///
/// The value is forwarded upstream and becomes `X-Forwarded-Host`, and routes match on it, so one that no URI
/// could carry (a space, a slash, `@`, a non-ASCII byte) is refused instead of being passed on for an upstream to
/// make its own sense of. An empty value is allowed: RFC 9112 section 3.2 has clients send it when there is no
/// authority.
public enum HostField {
    /// The check on the value's bytes (the engine's byte view). The byte set as two 64-bit masks, constants in the
    /// code: a table in a global cost a `swift_once` on every call, which showed in the engine's profile.
    public static func isValid(bytes: UnsafeRawBufferPointer) -> Bool {
        for byte in bytes where !isAllowed(byte) { return false }
        return true
    }

    /// ALPHA, DIGIT and `!$%&'()*+,-.:;=[]_~`: RFC 3986's reg-name, IP-literal and port bytes (bytes 0-63 in
    /// `allowedLow`, 64-127 in `allowedHigh`; checked against the list in HostFieldTests).
    static func isAllowed(_ byte: UInt8) -> Bool {
        byte < 64 ? (allowedLow >> UInt64(byte)) & 1 != 0 : byte < 128 && (allowedHigh >> UInt64(byte - 64)) & 1 != 0
    }

    static var allowedLow: UInt64 { 0x2fff_7ff2_0000_0000 }
    static var allowedHigh: UInt64 { 0x47ff_fffe_afff_fffe }
}
