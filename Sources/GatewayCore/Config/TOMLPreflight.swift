/// A check of config text before it reaches the TOML parser (toml++ through TOMLKit), which aborts the process on
/// some malformed input instead of reporting it (an assertion in debug builds, an optimiser assumption, so undefined
/// behaviour, in release ones). Both cases were found by the config loader's fuzz target: an abort would end
/// `gateway check`, and a SIGHUP reload would end a running gateway.
///
/// - `[[é]]`: TOML 1.0 allows non-ASCII characters only inside strings and comments (bare keys are `A-Za-z0-9_-`,
///   section 2 of the spec), so one anywhere else is a syntax error.
/// - `[ = "x"`, `[\n`, `[[[a]]]`: toml++'s table-header parser hands whatever follows `[` or `[[` (and spaces) to its
///   key parser, which assumes a bare-key character or a quote there.
/// - `x = [}`, `[1, }]`: its array parser hands a `}` where a value should start to its value parser, which assumes
///   it is none of `]`, `}`, `,`.
///
/// Reporting them here, with their line, is what the parser should have done.
enum TOMLPreflight {
    struct Problem: Equatable {
        var line: Int
        var message: String
    }

    /// The 1-based line of the first non-ASCII character outside a string or comment, or nil when there is none.
    static func firstNonASCIIOutsideStrings(_ text: String) -> Int? {
        guard let problem = firstProblem(text), problem.message == nonASCII else { return nil }
        return problem.line
    }

    static let nonASCII = "a non-ASCII character outside a string or comment"
    static let headerWithoutKey = "a table header must start with a key after its [ or [["
    static let braceForValue = "a } where an array value should be"

    /// The first of the problems above, or nil.
    static func firstProblem(_ text: String) -> Problem? {
        var scanner = Scanner(bytes: Array(text.utf8))
        return scanner.run()
    }

    private struct Scanner {
        enum State { case plain, comment, basic, literal, multilineBasic, multilineLiteral }

        let bytes: [UInt8]
        var state = State.plain
        var line = 1
        var index = 0
        /// The open `[` (arrays) and `{` (inline tables) of the value being read: a `[` that starts a line inside
        /// one is an array, not a table header.
        var open: [UInt8] = []
        /// Just after an array's `[` or `,` (spaces, line breaks and comments aside): a value must come next.
        var expectsArrayValue = false
        /// Only spaces and tabs so far on this line (outside strings).
        var atLineStart = true
        /// This line is a table header: its brackets are not array brackets.
        var inHeader = false

        init(bytes: [UInt8]) { self.bytes = bytes }

        func starts(_ marker: String) -> Bool { bytes[index...].starts(with: marker.utf8) }

        mutating func run() -> Problem? {
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\n") {
                    line += 1
                    // Single-line strings and comments end at the line's end (an unterminated string is the
                    // parser's error).
                    if state == .comment || state == .basic || state == .literal { state = .plain }
                    atLineStart = true
                    inHeader = false
                    index += 1
                    continue
                }
                switch state {
                case .plain:
                    if let problem = plain(byte) { return problem }
                    continue
                case .comment:
                    break
                case .basic:
                    if byte == UInt8(ascii: "\\") {
                        index += 2
                        continue
                    }
                    if byte == UInt8(ascii: "\"") { state = .plain }
                case .literal:
                    if byte == UInt8(ascii: "'") { state = .plain }
                case .multilineBasic:
                    if byte == UInt8(ascii: "\\") {
                        if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { line += 1 }
                        index += 2
                        continue
                    }
                    if starts("\"\"\"") {
                        state = .plain
                        index += 3
                        continue
                    }
                case .multilineLiteral:
                    if starts("'''") {
                        state = .plain
                        index += 3
                        continue
                    }
                }
                index += 1
            }
            return nil
        }

        /// One byte outside strings and comments; moves `index` on.
        private mutating func plain(_ byte: UInt8) -> Problem? {
            if byte >= 0x80 { return Problem(line: line, message: TOMLPreflight.nonASCII) }
            let wasAtLineStart = atLineStart
            let isSpace = byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
            if !isSpace { atLineStart = false }
            let expectedValue = expectsArrayValue
            if !isSpace && byte != UInt8(ascii: "#") { expectsArrayValue = false }
            if starts("\"\"\"") || starts("'''") {
                state = byte == UInt8(ascii: "\"") ? .multilineBasic : .multilineLiteral
                index += 3
                return nil
            }
            switch byte {
            case UInt8(ascii: "\""): state = .basic
            case UInt8(ascii: "'"): state = .literal
            case UInt8(ascii: "#"): state = .comment
            case UInt8(ascii: "[") where wasAtLineStart && open.isEmpty:
                inHeader = true
                return header()
            case UInt8(ascii: "[") where !inHeader:
                open.append(byte)
                expectsArrayValue = true
            case UInt8(ascii: "{") where !inHeader:
                open.append(byte)
            case UInt8(ascii: ",") where open.last == UInt8(ascii: "["):
                expectsArrayValue = true
            case UInt8(ascii: "}") where !inHeader:
                if expectedValue { return Problem(line: line, message: TOMLPreflight.braceForValue) }
                if open.last == UInt8(ascii: "{") { open.removeLast() }
            case UInt8(ascii: "]") where !inHeader:
                if open.last == UInt8(ascii: "[") { open.removeLast() }
            default:
                break
            }
            index += 1
            return nil
        }

        /// At a table header's first `[`: what follows it (a second `[`, spaces) must lead to a key, a quote, or a
        /// `]` (which toml++ reports itself).
        private mutating func header() -> Problem? {
            index += 1
            var hadSpace = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "[") {
                index += 1
            } else {
                while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
                    index += 1
                    hadSpace = true
                }
                // `[ [a]]`: toml++'s own error ("brackets must be contiguous").
                if hadSpace, index < bytes.count, bytes[index] == UInt8(ascii: "[") { return nil }
            }
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
                index += 1
            }
            guard index < bytes.count else { return nil }
            let next = bytes[index]
            let startsKey =
                (next >= UInt8(ascii: "a") && next <= UInt8(ascii: "z"))
                || (next >= UInt8(ascii: "A") && next <= UInt8(ascii: "Z"))
                || (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9"))
                || next == UInt8(ascii: "_") || next == UInt8(ascii: "-") || next == UInt8(ascii: "\"")
                || next == UInt8(ascii: "'") || next == UInt8(ascii: "]") || next >= 0x80
            return startsKey ? nil : Problem(line: line, message: TOMLPreflight.headerWithoutKey)
        }
    }
}
