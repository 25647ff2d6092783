/// JSON string escaping (RFC 8259 section 7) for the small JSON documents built by hand: token headers and
/// claims here, and the gateway's error bodies, token responses and access-log lines, which run on every
/// request and would cost more through a JSON encoder than the request itself.
public enum JSONString {
    /// `value` with `"`, `\` and control characters escaped, without the surrounding quotes.
    /// Text that needs no escaping (the usual case) is returned without being copied scalar by scalar.
    public static func escape(_ value: some StringProtocol) -> String {
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            return String(value)
        }
        var out = ""
        out.reserveCapacity(value.utf8.count + 8)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `value` as a JSON string literal, quotes included.
    public static func quoted(_ value: String) -> String {
        "\"" + escape(value) + "\""
    }
}
