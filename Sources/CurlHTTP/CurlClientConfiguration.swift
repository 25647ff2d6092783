/// How a `CurlClient` runs: how many event threads it starts and how many connections it may open and keep.
///
/// Each event thread owns its own libcurl multi handle and therefore its own connection pool (a connection cache
/// shared across multi handles is buggy in libcurl 7.88, see docs/libcurl.md). The connection limits below are
/// for the whole client; they are divided evenly over the threads (rounded up).
public struct CurlClientConfiguration: Sendable {
    /// Number of event threads; transfers are distributed over them round-robin. At least 1.
    public var threads: Int
    /// Most connections open to one host at a time (`CURLMOPT_MAX_HOST_CONNECTIONS`); 0 = unlimited.
    /// Requests beyond it wait in libcurl's queue, and that wait counts against their total timeout.
    public var maxConnectionsPerHost: Int
    /// Most connections open at a time over all hosts (`CURLMOPT_MAX_TOTAL_CONNECTIONS`); 0 = unlimited.
    public var maxTotalConnections: Int
    /// Idle keep-alive connections kept for reuse per event thread (`CURLMOPT_MAXCONNECTS`). Set explicitly because
    /// libcurl's default follows the number of active transfers and so shrinks the pool when traffic drops.
    public var maxCachedConnections: Int
    /// Whether libcurl may route transfers through a proxy named in the environment (`http_proxy`, `https_proxy`,
    /// `all_proxy`, minus `no_proxy`), as the curl tool does. Right for calls out to an API such as WeChat's, where
    /// a host may need an egress proxy; wrong for a reverse proxy's upstreams, which must be reached as configured
    /// whatever the process inherited. When false, no transfer uses a proxy (`CURLOPT_NOPROXY` "*"), and libcurl
    /// also skips reading those variables on every transfer.
    public var usesProxyEnvironment: Bool

    public init(
        threads: Int = 1,
        maxConnectionsPerHost: Int = 0,
        maxTotalConnections: Int = 0,
        maxCachedConnections: Int = 256,
        usesProxyEnvironment: Bool = true
    ) {
        self.threads = threads
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.maxTotalConnections = maxTotalConnections
        self.maxCachedConnections = maxCachedConnections
        self.usesProxyEnvironment = usesProxyEnvironment
    }
}

extension CurlClientConfiguration {
    /// The share of a client-wide limit that one of `threads` event threads gets (0 stays unlimited).
    static func perThreadShare(of limit: Int, threads: Int) -> Int {
        guard limit > 0 else { return 0 }
        let threads = max(threads, 1)
        return (limit + threads - 1) / threads
    }
}
