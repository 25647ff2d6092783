/// One upstream of a route: `http://host:port[/base]`, `https://host[:port][/base]` or `unix:/path/to.sock`.
/// A base path is prepended to the forwarded path (like nginx's `proxy_pass http://app/v1;`).
public struct UpstreamURL: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }

    public var scheme: Scheme
    /// `host` or `host:port` as it goes into the URL handed to libcurl; `localhost` for unix sockets.
    public var authority: String
    /// Without a trailing slash; empty for none.
    public var basePath: String
    public var unixSocketPath: String?

    /// The text the operator wrote, for logs and errors.
    public var description: String

    public init?(configText text: String) {
        description = text
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            // sun_path holds 108 bytes including the terminating NUL (docs/libcurl.md).
            guard path.hasPrefix("/"), path.utf8.count <= 107, !path.contains(" ") else { return nil }
            scheme = .http
            authority = "localhost"
            basePath = ""
            unixSocketPath = path
            return
        }
        let rest: Substring
        if text.hasPrefix("http://") {
            scheme = .http
            rest = text.dropFirst("http://".count)
        } else if text.hasPrefix("https://") {
            scheme = .https
            rest = text.dropFirst("https://".count)
        } else {
            return nil
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authorityPart = rest[..<slash]
        var path = rest[slash...]
        guard !authorityPart.isEmpty, !authorityPart.contains("@"), !path.contains("?"), !path.contains("#"),
            !path.contains(" ")
        else { return nil }
        // Validate host[:port] with the same rules as a listen address, allowing the port to be left out.
        let withPort = authorityPart.contains("]:") || (!authorityPart.hasPrefix("[") && authorityPart.contains(":"))
        let probe = withPort ? String(authorityPart) : "\(authorityPart):0"
        guard let parsed = ListenAddress(configText: probe), !withPort || parsed.port > 0 else { return nil }
        while path.hasSuffix("/") { path = path.dropLast() }
        authority = String(authorityPart)
        basePath = String(path)
        unixSocketPath = nil
    }

    /// The absolute URL libcurl is given for a request path and query (`?` included, or empty), exactly as received.
    public func url(forPath path: Substring, query: Substring = "") -> String {
        // One buffer sized up front: interpolation grows its storage piece by piece, on every request.
        var url = String()
        url.reserveCapacity(
            scheme.rawValue.utf8.count + 3 + authority.utf8.count + basePath.utf8.count + path.utf8.count
                + query.utf8.count)
        url += scheme.rawValue
        url += "://"
        url += authority
        url += basePath
        url += path
        url += query
        return url
    }
}
