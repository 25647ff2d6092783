import GatewayCore
import Glibc

/// The upstream's answer head as libcurl's header callback hands it over, one line a call (docs/libcurl.md,
/// "Responses"): the lines are kept as bytes and the fields as spans into them, reset at every status line (a 1xx head
/// is followed by the final one). No `String` per field; each field's rule is decided once, as it arrives.
struct UpstreamHead {
    struct Field {
        var name: ByteSpan
        var value: ByteSpan
        var rule: ResponseFieldRule
    }

    private(set) var status = 0
    private(set) var bytes: [UInt8] = []
    private(set) var fields: [Field] = []
    /// The blank line after a final (non-1xx) status line came.
    private(set) var isComplete = false
    /// A field of this head has a name that is not a `token` or a value with a byte no field value may hold
    /// (`HeaderRewriter.isValidFieldName`/`isValidFieldValue`): decided as each line arrives, its bytes at hand, so
    /// `ClientHeadWriter.inspect` asks once per head rather than walking every field's bytes again.
    private(set) var hasInvalidField = false

    init() {
        bytes.reserveCapacity(1024)
        fields.reserveCapacity(16)
    }

    mutating func reset() {
        status = 0
        clear()
        isComplete = false
    }

    /// Empties the lines, keeping their memory. Both arrays are often empty already (the status line clears what
    /// `reset` just cleared): `removeAll` would still check each for uniqueness.
    private mutating func clear() {
        hasInvalidField = false
        if !bytes.isEmpty { bytes.removeAll(keepingCapacity: true) }
        if !fields.isEmpty { fields.removeAll(keepingCapacity: true) }
    }

    enum LineOutcome {
        case more
        /// A head (interim or final) ended with this blank line.
        case headEnded
        /// A line after the final head (a trailer): not passed on.
        case ignored
    }

    mutating func receive(_ line: UnsafeRawBufferPointer) -> LineOutcome {
        if isComplete { return .ignored }
        var count = line.count
        while count > 0, line[count - 1] == UInt8(ascii: "\r") || line[count - 1] == UInt8(ascii: "\n") { count -= 1 }
        if count == 0 {
            if status >= 200 { isComplete = true }
            return status == 0 ? .more : .headEnded
        }
        if count > 5, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[4] == UInt8(ascii: "/") {
            // "HTTP/1.1 200 OK": a new head starts (after a 1xx, the final one).
            clear()
            status = Self.statusCode(line, count: count)
            return .more
        }
        guard let found = memchr(line.baseAddress!, Int32(UInt8(ascii: ":")), count) else { return .more }
        let colon = UnsafeRawPointer(found) - line.baseAddress!
        let start = bytes.count
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[0..<count]))
        var valueStart = colon + 1
        while valueStart < count, line[valueStart] == UInt8(ascii: " ") || line[valueStart] == UInt8(ascii: "\t") {
            valueStart += 1
        }
        var valueEnd = count
        while valueEnd > valueStart, line[valueEnd - 1] == UInt8(ascii: " ") || line[valueEnd - 1] == UInt8(ascii: "\t")
        {
            valueEnd -= 1
        }
        let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        if !hasInvalidField {
            hasInvalidField =
                !HeaderRewriter.isValidFieldName(name)
                || !HeaderRewriter.isValidFieldValue(UnsafeRawBufferPointer(rebasing: line[valueStart..<valueEnd]))
        }
        let rule = HeaderRewriter.responseFieldRule(name: name)
        fields.append(
            Field(
                name: ByteSpan(start: start, count: colon),
                value: ByteSpan(start: start + valueStart, count: valueEnd - valueStart), rule: rule))
        return .more
    }

    private static func statusCode(_ line: UnsafeRawBufferPointer, count: Int) -> Int {
        guard let found = memchr(line.baseAddress!, Int32(UInt8(ascii: " ")), count) else { return 0 }
        let space = UnsafeRawPointer(found) - line.baseAddress!
        guard space + 3 < count + 1 else { return 0 }
        var code = 0
        for index in space + 1..<min(space + 4, count) {
            let digit = line[index]
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return 0 }
            code = code * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return code
    }
}
