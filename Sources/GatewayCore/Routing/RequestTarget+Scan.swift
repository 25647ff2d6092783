/// The request-target's checks as one pass over its bytes, for `RequestTarget.init` on every request: the separate
/// generic passes over `String.UTF8View` (and Foundation's case-insensitive replacing for dot segments) showed in
/// the engine's profile. The rules are `RequestTarget`'s, unchanged; the unit tests hold this pass to the text-based
/// checks it replaced.
extension RequestTarget {
    /// What the pass decided.
    struct Scan: Equatable {
        /// A forbidden byte anywhere, or in the path `#`, `%00` or a dot segment.
        var rejected: Bool
        /// The offset of the first `?`, or the count: where the path ends.
        var queryStart: Int
    }

    /// One pass over `bytes`, the target's UTF-8.
    ///
    /// The dot-segment rule as the text check applies it: `%2e` is `.` and `%2f` is `/` in either case (the two
    /// patterns cannot overlap and neither replacement makes a new match, so decoding left to right is the same as
    /// replacing one after the other), a segment's part before `;` is what counts, and `.` or `..` is refused.
    /// Upstreams that decode `%2F` before normalising see a separator there; Tomcat and Spring drop `;` path
    /// parameters first, so `..;` is `..` to them. Segments are split on the `/` byte in every path, as an upstream
    /// splits them: a path with non-ASCII bytes was once split by Character, where a combining mark after a `/`
    /// (`/public/../\u{301}x`) or a prepended mark before one (`/public\u{600}/../private`) joins it into a
    /// Character that is not `/`, and the dot segment got through.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> Scan {
        let count = bytes.count
        var index = 0
        // The current segment: decoded dots in its part before `;`, whether that part is nothing but dots, and
        // whether a `;` was seen.
        var dots = 0
        var onlyDots = true
        var inParameters = false
        var dotSegment = false
        path: while index < count {
            let byte = bytes[index]
            index += 1
            switch byte {
            // Control characters, space, DEL and backslash (some servers treat a backslash as a slash).
            case 0x00...0x20, 0x7F, UInt8(ascii: "\\"):
                return Scan(rejected: true, queryStart: count)
            case UInt8(ascii: "#"):
                return Scan(rejected: true, queryStart: count)
            case UInt8(ascii: "?"):
                index -= 1
                break path
            case UInt8(ascii: "/"):
                if onlyDots && (dots == 1 || dots == 2) { dotSegment = true }
                (dots, onlyDots, inParameters) = (0, true, false)
            case UInt8(ascii: "."):
                if !inParameters { dots += 1 }
            case UInt8(ascii: ";"):
                inParameters = true
            case UInt8(ascii: "%"):
                let first = index < count ? bytes[index] : 0
                let second = index + 1 < count ? bytes[index + 1] : 0
                if first == UInt8(ascii: "0") && second == UInt8(ascii: "0") {
                    return Scan(rejected: true, queryStart: count)
                }
                if first == UInt8(ascii: "2") && second | 0x20 == UInt8(ascii: "e") {
                    if !inParameters { dots += 1 }
                    index += 2
                } else if first == UInt8(ascii: "2") && second | 0x20 == UInt8(ascii: "f") {
                    if onlyDots && (dots == 1 || dots == 2) { dotSegment = true }
                    (dots, onlyDots, inParameters) = (0, true, false)
                    index += 2
                } else if !inParameters {
                    onlyDots = false
                }
            default:
                if !inParameters { onlyDots = false }
            }
        }
        if onlyDots && (dots == 1 || dots == 2) { dotSegment = true }
        let queryStart = index
        // The query is the upstream's, but a forbidden byte is refused there too.
        while index < count {
            let byte = bytes[index]
            if byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: "\\") {
                return Scan(rejected: true, queryStart: queryStart)
            }
            index += 1
        }
        return Scan(rejected: dotSegment, queryStart: queryStart)
    }
}
