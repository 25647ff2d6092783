import WeChat

/// Where an authorize page may send the browser back to. WeChat redirects only to pages of the domain the app
/// registered ("网页授权域名" / "授权回调域") and otherwise shows "redirect_uri 参数错误" without redirecting. The
/// simulator has no registered domains, so it accepts absolute http(s) URLs on loopback hosts and on the hosts
/// named with `--redirect-host`, and nothing else: it is never an open redirector.
struct SimulatorRedirect: Equatable, Sendable {
    /// The validated `redirect_uri`, exactly as the app sent it.
    let target: String

    init?(_ uri: String?, allowedHosts: [String]) {
        guard let uri, !uri.isEmpty, uri.utf8.count <= 2048,
            // Printable ASCII only: no CR/LF for a Location header, no spaces, no `\` browsers read as `/`.
            uri.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") })
        else { return nil }
        let lowered = uri.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            rest = uri.dropFirst("https://".count)
        } else if lowered.hasPrefix("http://") {
            rest = uri.dropFirst("http://".count)
        } else {
            return nil
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        // Userinfo (`user@host`) is how open-redirect checks are fooled; WeChat's callback domains never have it.
        guard !authority.isEmpty, !authority.contains("@"), let host = Self.host(of: authority),
            Self.isLoopback(host) || allowedHosts.contains(where: { $0.lowercased() == host })
        else { return nil }
        self.target = uri
    }

    /// The redirect WeChat sends after the user agreed: `code` and `state` added to the query, a fragment kept
    /// after them ("网页授权": `redirect_uri/?code=CODE&state=STATE`; `state` is passed back unchanged).
    func location(code: String, state: String) -> String {
        let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let base = String(parts[0])
        let separator = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        let fragment = parts.count > 1 ? "#" + parts[1] : ""
        return base + separator + "code=" + QueryString.escape(code) + "&state=" + QueryString.escape(state) + fragment
    }

    /// The lowercased host of `authority` (`host[:port]` or `[v6][:port]`), nil when the port is not a number.
    static func host(of authority: Substring) -> String? {
        var host = authority
        var port: Substring = ""
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            port = authority[authority.index(after: close)...]
            guard port.isEmpty || port.hasPrefix(":") else { return nil }
            port = port.dropFirst()
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }), port.count <= 5 else { return nil }
        return host.lowercased()
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host.hasSuffix(".localhost") || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }
}
