/// One entry of `[cors] allow_origins`, checked and written as a browser serialises an origin in its `Origin`
/// field (RFC 6454 section 6.1; the Fetch standard's "serialization of an origin"): `scheme://host[:port]`, scheme
/// and host in lower case, no default port, no path, no user information. The policy compares the request's
/// `Origin` to these strings byte for byte, as a browser compares `Access-Control-Allow-Origin` to its own origin.
public enum CorsOrigin {
    /// Why an entry is refused: a sentence for the operator, after the key path.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case wildcard
        case null
        case notAnOrigin(String)

        public var description: String {
            switch self {
            case .wildcard:
                return "\"*\" is refused: the gateway's answers are credentialed (they carry what the caller's "
                    + "bearer token may read), so only exact origins may read them; list each origin, such as "
                    + "\"https://h5.example.com\""
            case .null:
                return "\"null\" is refused: sandboxed frames, file: pages and redirects of any site send "
                    + "Origin: null, so allowing it allows everyone"
            case .notAnOrigin(let reason):
                return reason
            }
        }
    }

    /// The entry as a browser would send it (`"https://H5.example.com:443"` becomes `"https://h5.example.com"`), or
    /// why it cannot be an origin.
    public static func normalize(_ text: String) -> Result<String, Problem> {
        if text == "*" { return .failure(.wildcard) }
        if text.lowercased() == "null" { return .failure(.null) }
        let example = "write scheme://host[:port], such as \"https://h5.example.com\""
        guard let separator = text.range(of: "://") else {
            return .failure(.notAnOrigin("\"\(text)\" is not an origin: \(example)"))
        }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            return .failure(.notAnOrigin("\"\(text)\" is not an origin: the scheme must be http or https"))
        }
        let authority = text[separator.upperBound...]
        if let extra = authority.firstIndex(where: { "/?#".contains($0) }) {
            return .failure(
                .notAnOrigin(
                    "\"\(text)\" is not an origin: an origin has no path, query or fragment "
                        + "(\"\(authority[extra...])\"); \(example)"))
        }
        if authority.contains("@") {
            return .failure(.notAnOrigin("\"\(text)\" is not an origin: an origin has no user information"))
        }
        guard let (host, port) = splitHostPort(authority) else {
            return .failure(.notAnOrigin("\"\(text)\" is not an origin: \(example)"))
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let portPart = port.map { $0 == defaultPort ? "" : ":\($0)" } ?? ""
        return .success("\(scheme)://\(host)\(portPart)")
    }

    /// Host (lower-cased; a bracketed IPv6 literal kept in its brackets) and port, or nil when either is malformed.
    private static func splitHostPort(_ authority: Substring) -> (host: String, port: Int?)? {
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
            let inner = host.dropFirst().dropLast()
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            // RFC 3986 reg-name as browsers accept it in a host: letters, digits, '-', '.', '_'.
            guard !host.isEmpty,
                host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") })
            else { return nil }
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = Int(portText), (1...65535).contains(number)
            else { return nil }
            port = number
        }
        return (host.lowercased(), port)
    }
}
