/// The elements of a comma-separated field value (RFC 9110 section 5.6.1), as slices of it: empty elements skipped,
/// optional whitespace trimmed, no array built. Request and response heads both read lists this way on every
/// exchange (Connection, Content-Length, Transfer-Encoding, Expect).
enum FieldValueList {
    /// Calls `body` with each element until it returns false.
    static func forEachElement(of value: String, _ body: (Substring) -> Bool) {
        let utf8 = value.utf8
        var start = utf8.startIndex
        while true {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: ",")) ?? utf8.endIndex
            let element = Substring(utf8[start..<end]).trimmingOptionalWhitespace()
            if !element.isEmpty, !body(element) { return }
            guard end < utf8.endIndex else { return }
            start = utf8.index(after: end)
        }
    }

    /// The first element.
    static func first(of value: String) -> Substring? {
        var found: Substring?
        forEachElement(of: value) { element in
            found = element
            return false
        }
        return found
    }

    /// Whether an element equals `lowercased`, in any case.
    static func contains(_ value: String, _ lowercased: String) -> Bool {
        var found = false
        forEachElement(of: value) { element in
            found = ASCIICase.equals(element, lowercased)
            return !found
        }
        return found
    }
}
