import JSON

/// The rule for the identity values a token carries (`sub`, `appid`, `unionid`), checked when a token is issued
/// and again when one is verified: each becomes an `X-OpenId`, `X-AppId` or `X-UnionId` line on every upstream
/// request, and libcurl writes header lines as given.
///
/// A CR or LF would start a header line of its own; any other control character (RFC 9110 section 5.5 allows
/// none but HTAB, and HTAB is whitespace an upstream trims) or a leading or trailing space would make the upstream
/// read another value than the one signed. Non-ASCII bytes are left alone: they are obs-text, not a new line.
public enum IdentityClaim {
    /// nil when `value` may become an identity header value; otherwise what is wrong with it, for messages.
    public static func problem(with value: String) -> String? {
        guard let first = value.utf8.first, let last = value.utf8.last else { return "is empty" }
        for byte in value.utf8 where byte < 0x20 || byte == 0x7F {
            return byte == 0x0D || byte == 0x0A
                ? "contains a line break (CR or LF)"
                : "contains a control character (byte 0x\(Hex.lowercase([byte]).uppercased()))"
        }
        if first == UInt8(ascii: " ") || last == UInt8(ascii: " ") { return "starts or ends with a space" }
        return nil
    }

    /// True when `value` may become an identity header value.
    public static func isAcceptable(_ value: String) -> Bool {
        problem(with: value) == nil
    }

}
