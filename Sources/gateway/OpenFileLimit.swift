import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Raises the soft limit on open files to the hard limit at start-up, as HAProxy and Go programs (so oauth2-proxy)
/// do, and warns when even the hard limit is low.
///
/// Every proxied connection holds two descriptors, the client's and the upstream's, and many systems start
/// services with a soft limit of 1024: without this, about 500 concurrent clients would exhaust it, new clients
/// would wait in the listen backlog and upstream connects would fail. The gateway waits in epoll and libcurl in
/// poll, never in select, so high descriptor numbers are safe.
enum OpenFileLimit {
    /// Below this many, a busy gateway runs out (two per proxied connection, plus pools and the store).
    static let comfortable: rlim_t = 4096

    static func raise(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return }
        let before = limit.rlim_cur
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 {
                limit = raised
                logger.info("open file limit raised", metadata: ["from": "\(before)", "to": "\(limit.rlim_cur)"])
            }
        }
        if limit.rlim_cur < comfortable {
            logger.warning(
                """
                open file limit is low: each proxied connection needs two; \
                raise the hard limit (ulimit -Hn, LimitNOFILE=)
                """,
                metadata: ["limit": "\(limit.rlim_cur)"])
        }
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
