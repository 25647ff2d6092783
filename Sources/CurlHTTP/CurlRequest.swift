/// One HTTP request to hand to `CurlClient.execute`.
///
/// The request goes out as given: the method token, the URL's path and query byte for byte (no normalisation,
/// `CURLOPT_PATH_AS_IS`), and exactly the headers listed. libcurl adds no `Expect`, `Accept` or `User-Agent` of its
/// own; it adds `Host` (from the URL) only when the list has none, and `Content-Length` or
/// `Transfer-Encoding: chunked` for a body only when the list has neither. Requests use HTTP/1.1, also over TLS.
public struct CurlRequest: Sendable {
    /// The method token, e.g. "GET", "HEAD", "POST", or any other token.
    public var method: String
    /// Absolute `http://` or `https://` URL including path and query.
    public var url: String
    /// When set, the connection goes to this Unix domain socket (`CURLOPT_UNIX_SOCKET_PATH`, at most 107 bytes)
    /// and `url` only supplies the scheme, `Host` and path, e.g. `http://localhost/path`.
    public var unixSocketPath: String?
    /// Header fields in order; repeated names are sent as separate lines. An empty value sends an empty field.
    public var headers: [(name: String, value: String)]
    /// The request body.
    public var body: CurlRequestBody
    /// Limit for establishing the connection (TCP and TLS), in milliseconds.
    public var connectTimeoutMilliseconds: Int
    /// Limit for the whole exchange, in milliseconds; 0 = none (for long-lived streams).
    public var timeoutMilliseconds: Int
    /// With `lowSpeedTimeSeconds`, the idle limit: the transfer fails with `.timedOut` when it moves fewer than this
    /// many bytes per second for that many seconds. 0 = off. Time spent paused by back-pressure does not count.
    public var lowSpeedLimitBytesPerSecond: Int
    /// See `lowSpeedLimitBytesPerSecond`.
    public var lowSpeedTimeSeconds: Int
    /// PEM file of CA certificates to trust for HTTPS instead of the system bundle.
    public var caFile: String?
    /// Skip certificate and host name verification for HTTPS. For tests and development only.
    public var insecureSkipVerify: Bool

    public init(
        method: String = "GET",
        url: String,
        unixSocketPath: String? = nil,
        headers: [(name: String, value: String)] = [],
        body: CurlRequestBody = .none,
        connectTimeoutMilliseconds: Int = 2000,
        timeoutMilliseconds: Int = 30_000,
        lowSpeedLimitBytesPerSecond: Int = 0,
        lowSpeedTimeSeconds: Int = 0,
        caFile: String? = nil,
        insecureSkipVerify: Bool = false
    ) {
        self.method = method
        self.url = url
        self.unixSocketPath = unixSocketPath
        self.headers = headers
        self.body = body
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.lowSpeedLimitBytesPerSecond = lowSpeedLimitBytesPerSecond
        self.lowSpeedTimeSeconds = lowSpeedTimeSeconds
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
    }
}
