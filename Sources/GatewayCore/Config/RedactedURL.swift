import Foundation

/// URLs as they may appear in messages: a password never does, whatever the shape of the text.
///
/// The operator may have mistyped the URL (`postgres:gw:secret@db/gw`, no `//`), so nothing here assumes it
/// parses: everything between the start of the authority (after the first `://` when it comes before any `@`,
/// else the start of the text) and the last `@` is user information, and from its first `:` on it is replaced.
/// That can hide more than the password in an odd URL (`https://host:8080/a@b`), never less. A `password=` query
/// parameter (libpq reads one) loses its value too.
enum RedactedURL {
    static let mask = "<redacted>"

    static func text(_ url: String) -> String {
        redactingPasswordParameters(redactingUserInfo(url))
    }

    private static func redactingUserInfo(_ url: String) -> String {
        guard let firstAt = url.firstIndex(of: "@"), let lastAt = url.lastIndex(of: "@") else { return url }
        var start = url.startIndex
        if let separator = url.range(of: "://"), separator.upperBound <= firstAt {
            start = separator.upperBound
        }
        guard let colon = url[start..<lastAt].firstIndex(of: ":") else { return url }
        return url.replacingCharacters(in: colon..<lastAt, with: ":" + mask)
    }

    /// `password=…` and `sslpassword=…` up to the next `&` or `#` (or the end), wherever they appear.
    private static func redactingPasswordParameters(_ url: String) -> String {
        var result = ""
        var rest = url[...]
        while let key = rest.range(of: "password=", options: .caseInsensitive) {
            result += rest[..<key.upperBound]
            result += mask
            rest = rest[key.upperBound...]
            rest = rest[(rest.firstIndex { $0 == "&" || $0 == "#" } ?? rest.endIndex)...]
        }
        return result + rest
    }
}
