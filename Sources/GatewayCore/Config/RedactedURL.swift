import Foundation

/// URLs as they may appear in messages: any `user:password@` part keeps the user and loses the password,
/// so a mistyped store or upstream URL in `gateway.conf` does not put a credential on the terminal or in a log.
enum RedactedURL {
    static func text(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let schemeEnd = url.range(of: "://"), schemeEnd.upperBound < at
        else { return url }
        let credentials = url[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return url.replacingCharacters(in: colon..<at, with: ":<redacted>")
    }
}
