/// One 256-entry table of what each byte may be in a header field, built once from the rules themselves
/// (`HeaderName.isTokenByte`, RFC 9110 section 5.6.2; field values, section 5.5), so a check is one load per byte
/// (`HeaderRewriter.isValidFieldName`/`isValidFieldValue`, run for every field of every upstream answer).
enum FieldBytes {
    /// The bit set for a `token` byte (a field name's bytes).
    static let token: UInt8 = 1
    /// The bit set for a byte a field value may hold: visible characters, space, tab and obs-text.
    static let value: UInt8 = 2

    static let table: [UInt8] = (0...255).map { (byte: Int) -> UInt8 in
        let byte = UInt8(byte)
        let isValue = byte >= 0x20 ? byte != 0x7F : byte == 0x09
        return (HeaderName.isTokenByte(byte) ? token : 0) | (isValue ? value : 0)
    }
}
