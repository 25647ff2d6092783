/// One JSON object (RFC 8259 section 4) written member by member, in the order given: the control plane's answers
/// (token responses, OAuth errors, the phone number), whose members follow the order of the RFCs' examples
/// (RFC 6749 section 5.1). Names and string values are escaped by `JSONByteWriter`, so no answer is JSON text
/// built by hand.
public struct JSONObjectWriter: Sendable {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var isEmpty = true

    public init() {}

    /// Appends `"name":"value"`.
    public mutating func member(_ name: String, _ value: some StringProtocol) {
        appendName(name)
        JSONByteWriter.appendString(value, to: &bytes)
    }

    /// Appends `"name":"value"`, or nothing when `value` is nil: an optional member is left out, not `null`.
    public mutating func member(_ name: String, ifPresent value: String?) {
        guard let value else { return }
        member(name, value)
    }

    /// Appends `"name":value` in decimal.
    public mutating func member(_ name: String, _ value: Int) {
        appendName(name)
        JSONByteWriter.appendInteger(value, to: &bytes)
    }

    /// The object's text, closing brace included; the writer can still be added to afterwards.
    public var text: String {
        var closed = bytes
        closed.append(UInt8(ascii: "}"))
        // Only escaped UTF-8 went in: decoding repairs nothing.
        return String(decoding: closed, as: UTF8.self)
    }

    private mutating func appendName(_ name: String) {
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        JSONByteWriter.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }
}
