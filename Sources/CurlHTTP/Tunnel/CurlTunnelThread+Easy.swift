import CCurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension CurlTunnelThread {
    /// The connect-only options of a tunnel's easy handle; the failure, if one could not be set.
    static func configure(
        _ easy: UnsafeMutableRawPointer, errorBuffer: UnsafeMutablePointer<CChar>, for request: CurlTunnelRequest
    ) -> CurlError? {
        var failed: CURLcode = CURLE_OK
        func set(_ option: CURLoption, _ value: Int) {
            if failed == CURLE_OK { failed = gw_easy_setopt_long(easy, option, value) }
        }
        func set(_ option: CURLoption, _ value: String) {
            if failed == CURLE_OK { failed = value.withCString { gw_easy_setopt_string(easy, option, $0) } }
        }
        if failed == CURLE_OK {
            failed = gw_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
        }
        set(CURLOPT_URL, request.url)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        // 1, not 2: libcurl 7.88 only connects (and handshakes TLS); the upgrade request is ours to write.
        set(CURLOPT_CONNECT_ONLY, 1)
        set(CURLOPT_NOSIGNAL, 1)
        // Upstreams are reached as configured, never through a proxy from the environment.
        set(CURLOPT_NOPROXY, "*")
        // ALPN offers http/1.1 only: an upstream that picked h2 would not understand the upgrade request.
        set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
        set(CURLOPT_CONNECTTIMEOUT_MS, max(request.connectTimeoutMilliseconds, 0))
        set(CURLOPT_TCP_NODELAY, 1)
        // curl_easy_recv reads at most this much a call (16 KiB by default): a read of the scratch buffer's size
        // then tells a full socket from an emptied one. The buffer itself is freed once the connection is made.
        set(CURLOPT_BUFFERSIZE, 64 * 1024)
        if let path = request.unixSocketPath { set(CURLOPT_UNIX_SOCKET_PATH, path) }
        if let caFile = request.caFile { set(CURLOPT_CAINFO, caFile) }
        if request.insecureSkipVerify {
            set(CURLOPT_SSL_VERIFYPEER, 0)
            set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        guard failed == CURLE_OK else {
            return .other(
                code: Int(failed.rawValue),
                "setting a tunnel option failed: \(String(cString: curl_easy_strerror(failed)))")
        }
        return nil
    }

    /// libcurl's error text for a tunnel's failure.
    static func message(_ tunnel: CurlTunnel, _ code: CURLcode) -> String {
        if let buffer = tunnel.engine.errorBuffer, buffer[0] != 0 { return String(cString: buffer) }
        return String(cString: curl_easy_strerror(code))
    }

    static func monotonicMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }
}
