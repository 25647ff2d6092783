/// The string and number members of one JSON object, read by the same strict parser as token claims: for the
/// bodies of the control endpoints, where `JSONSerialization` would let the last of two `code`s win silently and
/// turn invalid UTF-8 into U+FFFD.
///
/// Nested objects, arrays, booleans and nulls are checked but skipped, as no parameter is one.
public enum JSONFields {
    /// nil unless `bytes` are exactly one JSON object in UTF-8 with each name once.
    public static func parse(_ bytes: [UInt8]) -> [String: String]? {
        guard let members = JSONParser.parseObject(bytes) else { return nil }
        var fields: [String: String] = [:]
        for (name, value) in members {
            switch value {
            case .string(let text): fields[name] = text
            case .int(let number): fields[name] = String(number)
            case .double(let number): fields[name] = Self.text(of: number)
            case .bool, .null, .array, .object: continue
            }
        }
        return fields
    }

    /// `42` rather than `42.0`: what the client wrote, for the integers a client sends.
    private static func text(of number: Double) -> String {
        if number == number.rounded(), abs(number) < 9_007_199_254_740_992 { return String(Int64(number)) }
        return String(number)
    }
}
