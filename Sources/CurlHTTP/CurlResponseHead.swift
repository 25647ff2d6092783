/// The final (non-1xx) status line and header block of a response, as received.
///
/// Headers keep their order and spelling and repeated fields stay apart (e.g. two `Set-Cookie`). Nothing is
/// removed: `Transfer-Encoding: chunked` is still listed, although body parts are delivered de-chunked, so a proxy
/// must re-frame the body itself.
public struct CurlResponseHead: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// Header fields in the order received; values have surrounding whitespace trimmed.
    public var headers: [(name: String, value: String)]
    /// The protocol version from the status line, e.g. "1.1" or "1.0".
    public var version: String?

    public init(status: Int, headers: [(name: String, value: String)], version: String?) {
        self.status = status
        self.headers = headers
        self.version = version
    }

    /// The values of every field named `name` (compared case-insensitively), in order.
    public func values(of name: String) -> [String] {
        let wanted = name.lowercased()
        return headers.filter { $0.name.lowercased() == wanted }.map(\.value)
    }
}
