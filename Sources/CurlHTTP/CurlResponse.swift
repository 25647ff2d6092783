import NIOCore

/// A whole buffered response, from `CurlClient.execute(_:maxBodyBytes:)`.
public struct CurlResponse: Sendable {
    /// Status line and headers.
    public var head: CurlResponseHead
    /// The complete body, de-chunked and not decompressed.
    public var body: ByteBuffer

    public init(head: CurlResponseHead, body: ByteBuffer) {
        self.head = head
        self.body = body
    }
}
