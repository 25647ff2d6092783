/// The `Host` field's value check (RFC 9110 section 7.2: `uri-host [ ":" port ]`), by the same byte set as
/// Go's `httpguts.ValidHostHeader`, which oauth2-proxy applies.
///
/// The value is forwarded upstream and becomes `X-Forwarded-Host`, and routes match on it, so one that no URI
/// could carry (a space, a slash, `@`, a non-ASCII byte) is refused instead of being passed on for an upstream to
/// make its own sense of. An empty value is allowed: RFC 9112 section 3.2 has clients send it when there is no
/// authority.
public enum HostField {
    /// The check on the value's bytes (the engine's byte view).
    public static func isValid(bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { allowed[Int($0)] }
    }

    /// ALPHA, DIGIT and `!$%&'()*+,-.:;=[]_~`: RFC 3986's reg-name, IP-literal and port bytes.
    private static let allowed: [Bool] = (0...255).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!$%&'()*+,-.:;=[]_~".utf8.contains(UInt8(byte))
        }
    }
}
