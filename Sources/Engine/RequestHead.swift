/// A parsed request head as offsets into the connection's read buffer (`ByteSpan`): no `String` and no `HTTPHeaders`
/// per field. Valid until the buffer is compacted, which happens only after the request is answered.
public struct RequestHead: Sendable {
    public struct Field: Sendable, Equatable {
        public var name: ByteSpan
        public var value: ByteSpan
    }

    /// The method's name (a shared constant for the common ones, so no allocation).
    public var method: String = "GET"
    public var target: ByteSpan = .empty
    public var versionMajor = 1
    public var versionMinor = 1
    /// In the order received; kept (with its capacity) from one request to the next.
    public var fields: [Field] = []
    public var keepAlive = true
    /// The request announced a body (a Content-Length above zero, or chunked).
    public var hasBody = false
    /// The Content-Length of a body that is not chunked (RFC 9112 section 6.3); nil for a chunked one.
    public var bodyLength: Int?
    /// The following three are read only for a request with a body or a Transfer-Encoding.
    /// `Expect: 100-continue` (RFC 9110 section 10.1.1).
    public var expectsContinue = false
    public var hasTransferEncoding = false
    /// A Transfer-Encoding other than one `chunked`: answered 501 (RFC 9112 section 6.1, as nginx).
    public var transferCodingRefused = false
    /// The request asks to switch protocols (`Connection: upgrade` and `Upgrade`): a WebSocket tunnel, or a plain
    /// request whose connection then closes, as the parser cannot go on after it.
    public var isUpgrade = false

    public init() {
        fields.reserveCapacity(32)
    }

    mutating func reset() {
        method = "GET"
        target = .empty
        fields.removeAll(keepingCapacity: true)
        keepAlive = true
        hasBody = false
        bodyLength = nil
        expectsContinue = false
        hasTransferEncoding = false
        transferCodingRefused = false
        isUpgrade = false
    }

    public var isHTTP10: Bool { versionMajor == 1 && versionMinor == 0 }
}
