import NIOCore

/// The body of a `CurlRequest`.
public enum CurlRequestBody: Sendable {
    /// No body is sent.
    case none
    /// The caller streams the body through `CurlTransfer.writeBody` and ends it with `finishBody`.
    /// With a length, it is sent with `Content-Length` (the caller must send exactly that many bytes);
    /// with `nil` it is sent with `Transfer-Encoding: chunked`.
    case streamed(length: Int?)
    /// The whole body, known up front; sent with `Content-Length`.
    case bytes(ByteBuffer)
}
