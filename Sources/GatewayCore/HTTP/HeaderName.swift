/// Rules for HTTP field names (RFC 9110 section 5.1) shared by config validation and header rewriting.
public enum HeaderName {
    /// `token` characters only: a name with anything else is malformed.
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(isTokenByte)
    }

    /// Lower-cased, with `_` folded into `-`: the form under which two spellings are "the same header"
    /// for an upstream framework that normalises names (`X_OpenId`, `x-openid`, `X-OPENID`).
    public static func canonical(_ name: String) -> String {
        String(
            decoding: name.utf8.map { byte -> UInt8 in
                if byte == UInt8(ascii: "_") { return UInt8(ascii: "-") }
                if byte >= 65 && byte <= 90 { return byte + 32 }
                return byte
            }, as: UTF8.self)
    }

    /// RFC 9110 section 5.5: a field value is visible characters, spaces, tabs and obs-text; any other
    /// control character (CR, LF, NUL...) could split or smuggle a header on the next hop.
    public static func isValidValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 >= 0x20 ? $0 != 0x7F : $0 == 0x09 }
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        // One bit per ASCII byte: this runs for every byte of every upstream response field name.
        byte < 64
            ? (tokenBytesLow >> UInt64(byte)) & 1 != 0
            : byte < 128 && (tokenBytesHigh >> UInt64(byte - 64)) & 1 != 0
    }

    /// `token` bytes (RFC 9110 section 5.6.2: letters, digits and ``!#$%&'*+-.^_`|~``) as bitmasks, bytes 0-63 and
    /// 64-127 (checked against the rule in HeaderNameTests).
    static let tokenBytesLow: UInt64 = 0x03ff_6cfa_0000_0000
    static let tokenBytesHigh: UInt64 = 0x57ff_ffff_c7ff_fffe
}
