import JSON

/// Builds `a=b&c=d` with every value percent-encoded: only RFC 3986 unreserved characters stay as
/// they are, so a `+` in a code or secret reaches WeChat as `%2B`, not as a space.
public enum QueryString {
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    /// Also the simulator's, for the `code` and `state` it appends to a redirect.
    public static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + Hex.lowercase([byte]).uppercased()
            }
        }
        return out
    }
}
