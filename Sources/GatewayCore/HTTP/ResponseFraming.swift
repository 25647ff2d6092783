import NIOHTTP1

/// How the body of an answer is delimited on the client's connection (RFC 9112 section 6.3), decided once per
/// response from its status, whether it carries a length, and the client's HTTP version.
///
/// The gateway writes response bytes itself (`ResponseHeadWriter`), so NIO's encoder's framing rules live here, plus
/// the one that encoder left to its users: an HTTP/1.0 answer without a length can only end with the connection.
enum ResponseFraming: Equatable {
    /// 1xx, 204 and 304 answers have no body; a Content-Length or Transfer-Encoding they carry is not sent.
    case noBody
    /// The answer's own Content-Length delimits it.
    case contentLength
    /// HTTP/1.1 without a length: the gateway sends the body in chunks.
    case chunked
    /// HTTP/1.0 without a length: the body ends when the connection closes.
    case untilClose

    init(status: Int, hasContentLength: Bool, version: HTTPVersion) {
        if (100..<200).contains(status) || status == 204 || status == 304 {
            self = .noBody
        } else if hasContentLength {
            self = .contentLength
        } else if version.major > 1 || (version.major == 1 && version.minor >= 1) {
            self = .chunked
        } else {
            self = .untilClose
        }
    }
}
