/// A check of config text before it reaches the TOML parser (toml++ through TOMLKit), which aborts the process on
/// some malformed input instead of reporting it: `[[é]]` fails an assertion in its key parser, found by the config
/// loader's fuzz target. An abort there would end `gateway check`, and a SIGHUP reload would end a running gateway.
///
/// TOML 1.0 allows non-ASCII characters only inside strings and comments (bare keys are `A-Za-z0-9_-`, section 2 of
/// the spec), so a non-ASCII character anywhere else is a syntax error; reporting it here, with its line, is what the
/// parser should have done.
enum TOMLPreflight {
    /// The 1-based line of the first non-ASCII character outside a string or comment, or nil when there is none.
    static func firstNonASCIIOutsideStrings(_ text: String) -> Int? {
        enum State { case plain, comment, basic, literal, multilineBasic, multilineLiteral }
        var state = State.plain
        var line = 1
        let bytes = Array(text.utf8)
        var index = 0
        func starts(_ marker: String) -> Bool { bytes[index...].starts(with: marker.utf8) }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                // Single-line strings and comments end at the line's end (an unterminated string is the parser's
                // error).
                if state == .comment || state == .basic || state == .literal { state = .plain }
                index += 1
                continue
            }
            switch state {
            case .plain:
                if byte >= 0x80 { return line }
                if starts("\"\"\"") {
                    state = .multilineBasic
                    index += 3
                    continue
                }
                if starts("'''") {
                    state = .multilineLiteral
                    index += 3
                    continue
                }
                if byte == UInt8(ascii: "\"") { state = .basic }
                if byte == UInt8(ascii: "'") { state = .literal }
                if byte == UInt8(ascii: "#") { state = .comment }
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
}
