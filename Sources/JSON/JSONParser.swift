/// The strict, single-pass JSON reader (RFC 8259) for everything the gateway reads: JWT headers and claims,
/// control-plane bodies, WeChat's answers, decrypted user data.
///
/// Written by hand because the token verifier runs on the event loop: one pass, no `Codable` double
/// decoding, no bridging through `NSDictionary`. Strict where lenient readers guess: duplicate member names
/// are rejected (RFC 7515 section 5.2 allows it, and it closes the "which `sub` wins" ambiguity), text
/// must be valid UTF-8, and nesting is bounded.
public struct JSONParser {
    private static let maximumDepth = 16

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses `bytes` as exactly one JSON value (surrounding whitespace allowed), or returns nil.
    public static func parseValue(_ bytes: [UInt8]) -> JSONValue? {
        parseWhole(bytes) { $0.parseValue(depth: 0) }
    }

    /// Parses `bytes` as exactly one JSON object, or returns nil.
    public static func parseObject(_ bytes: [UInt8]) -> [String: JSONValue]? {
        parseWhole(bytes) { $0.parseObjectMembers(depth: 0) }
    }

    /// Runs `parse` over `bytes` and accepts its result only when nothing but whitespace is around it.
    @inline(__always)
    private static func parseWhole<T>(_ bytes: [UInt8], _ parse: (inout JSONParser) -> T?) -> T? {
        bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer)
            parser.skipWhitespace()
            guard let parsed = parse(&parser) else { return nil }
            parser.skipWhitespace()
            return parser.index == buffer.count ? parsed : nil
        }
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    private mutating func parseObjectMembers(depth: Int) -> [String: JSONValue]? {
        guard depth < Self.maximumDepth, consume(UInt8(ascii: "{")) else { return nil }
        var members = [String: JSONValue]()
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return members }
        while true {
            skipWhitespace()
            guard let name = parseString() else { return nil }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            guard let value = parseValue(depth: depth + 1) else { return nil }
            guard members.updateValue(value, forKey: name) == nil else { return nil }
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            return consume(UInt8(ascii: "}")) ? members : nil
        }
    }

    private mutating func parseValue(depth: Int) -> JSONValue? {
        switch current {
        case UInt8(ascii: "\""):
            return parseString().map(JSONValue.string)
        case UInt8(ascii: "{"):
            return parseObjectMembers(depth: depth).map(JSONValue.object)
        case UInt8(ascii: "["):
            return parseArray(depth: depth)
        case UInt8(ascii: "t"):
            return parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"):
            return parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"):
            return parseLiteral("null", .null)
        case UInt8(ascii: "-")?, UInt8(ascii: "0")?, UInt8(ascii: "1")?, UInt8(ascii: "2")?, UInt8(ascii: "3")?,
            UInt8(ascii: "4")?, UInt8(ascii: "5")?, UInt8(ascii: "6")?, UInt8(ascii: "7")?, UInt8(ascii: "8")?,
            UInt8(ascii: "9")?:
            return parseNumber()
        default:
            return nil
        }
    }

    private mutating func parseLiteral(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
        let length = word.utf8CodeUnitCount
        guard index + length <= bytes.count else { return nil }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: length)
        for offset in 0..<length where bytes[index + offset] != expected[offset] {
            return nil
        }
        index += length
        return value
    }

    private mutating func parseArray(depth: Int) -> JSONValue? {
        guard depth < Self.maximumDepth, consume(UInt8(ascii: "[")) else { return nil }
        var elements = [JSONValue]()
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return .array(elements) }
        while true {
            skipWhitespace()
            guard let element = parseValue(depth: depth + 1) else { return nil }
            elements.append(element)
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            return consume(UInt8(ascii: "]")) ? .array(elements) : nil
        }
    }

    private mutating func parseDigits() -> Int {
        let start = index
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            index += 1
        }
        return index - start
    }

    /// Grammar of RFC 8259 section 6. An integer literal that fits `Int` is `.int` (integers of up to 15
    /// digits, every NumericDate among them, skip the general parsers); anything else is `.double`.
    private mutating func parseNumber() -> JSONValue? {
        let start = index
        let negative = consume(UInt8(ascii: "-"))
        let integerStart = index
        let integerDigits = parseDigits()
        guard integerDigits > 0 else { return nil }
        if integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0") { return nil }
        var isInteger = true
        if consume(UInt8(ascii: ".")) {
            guard parseDigits() > 0 else { return nil }
            isInteger = false
        }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            _ = consume(UInt8(ascii: "+")) || consume(UInt8(ascii: "-"))
            guard parseDigits() > 0 else { return nil }
            isInteger = false
        }
        if isInteger && integerDigits <= 15 {
            var value = 0
            for offset in integerStart..<(integerStart + integerDigits) {
                value = value * 10 + Int(bytes[offset] &- UInt8(ascii: "0"))
            }
            return .int(negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let value = Int(text) { return .int(value) }
        return Double(text).map(JSONValue.double)
    }

    private mutating func parseHex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func parseString() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        // Fast path: no escapes, which is every claim the gateway itself issues.
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            if byte < 0x20 { return nil }
            index += 1
        }
        guard let stop = current else { return nil }
        if stop == UInt8(ascii: "\"") {
            let text = Self.validatedString(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            index += 1
            return text
        }
        var raw = Array(bytes[start..<index])
        while let byte = current {
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return Self.validatedString(raw)
            case UInt8(ascii: "\\"):
                guard let escape = current else { return nil }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): raw.append(escape)
                case UInt8(ascii: "b"): raw.append(0x08)
                case UInt8(ascii: "f"): raw.append(0x0C)
                case UInt8(ascii: "n"): raw.append(0x0A)
                case UInt8(ascii: "r"): raw.append(0x0D)
                case UInt8(ascii: "t"): raw.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = parseEscapedScalar() else { return nil }
                    raw.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    return nil
                }
            default:
                if byte < 0x20 { return nil }
                raw.append(byte)
            }
        }
        return nil
    }

    /// `\uXXXX`, joining a UTF-16 surrogate pair; a lone surrogate is an error.
    private mutating func parseEscapedScalar() -> Unicode.Scalar? {
        guard let high = parseHex4() else { return nil }
        if (0xD800...0xDBFF).contains(high) {
            guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = parseHex4(),
                (0xDC00...0xDFFF).contains(low)
            else { return nil }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        }
        return Unicode.Scalar(high)
    }

    /// Invalid UTF-8 is an error rather than silently becoming U+FFFD.
    private static func validatedString(_ bytes: some Collection<UInt8>) -> String? {
        if !bytes.allSatisfy({ $0 < 0x80 }) {
            var iterator = bytes.makeIterator()
            var decoder = UTF8()
            decoding: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue: continue
                case .emptyInput: break decoding
                case .error: return nil
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
