/// Facts about a finished transfer, for logs and metrics.
public struct CurlTransferInfo: Sendable {
    /// The peer's IP address (or nil, e.g. for Unix sockets or when no connection was made).
    public var remoteAddress: String?
    /// Wall-clock duration of the transfer in seconds, as libcurl measured it.
    public var totalSeconds: Double
    /// Request body bytes handed to libcurl.
    public var requestBodyBytes: Int
    /// Response body bytes delivered to the delegate (de-chunked).
    public var responseBodyBytes: Int
    /// Whether any part of the request reached the connection. When false the upstream cannot have acted on it,
    /// so an idempotent request may be retried elsewhere.
    public var requestWasSent: Bool

    public init(
        remoteAddress: String? = nil,
        totalSeconds: Double = 0,
        requestBodyBytes: Int = 0,
        responseBodyBytes: Int = 0,
        requestWasSent: Bool = false
    ) {
        self.remoteAddress = remoteAddress
        self.totalSeconds = totalSeconds
        self.requestBodyBytes = requestBodyBytes
        self.responseBodyBytes = responseBodyBytes
        self.requestWasSent = requestWasSent
    }
}
