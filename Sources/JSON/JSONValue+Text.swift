/// Reading and writing JSON text.
extension JSONValue {
    /// Parses exactly one JSON value with the strict reader (`JSONParser`); nil when `bytes` is not JSON.
    public static func parse(_ bytes: some Collection<UInt8>) -> JSONValue? {
        JSONParser.parseValue(Array(bytes))
    }

    /// The compact JSON text of this value, object keys sorted so the output is stable. A non-finite double
    /// (not representable in JSON) is written as `null`.
    public func serialized() -> [UInt8] {
        var buffer: [UInt8] = []
        write(into: &buffer)
        return buffer
    }

    private func write(into buffer: inout [UInt8]) {
        switch self {
        case .null:
            JSONByteWriter.appendRaw("null", to: &buffer)
        case .bool(let value):
            value ? JSONByteWriter.appendRaw("true", to: &buffer) : JSONByteWriter.appendRaw("false", to: &buffer)
        case .int(let value):
            JSONByteWriter.appendInteger(value, to: &buffer)
        case .double(let value):
            if !value.isFinite {
                JSONByteWriter.appendRaw("null", to: &buffer)
            } else if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
                JSONByteWriter.appendInteger(Int(value), to: &buffer)
            } else {
                buffer.append(contentsOf: "\(value)".utf8)
            }
        case .string(let value):
            JSONByteWriter.appendString(value, to: &buffer)
        case .array(let elements):
            buffer.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                element.write(into: &buffer)
            }
            buffer.append(UInt8(ascii: "]"))
        case .object(let members):
            buffer.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                JSONByteWriter.appendString(key, to: &buffer)
                buffer.append(UInt8(ascii: ":"))
                members[key]!.write(into: &buffer)
            }
            buffer.append(UInt8(ascii: "}"))
        }
    }
}
