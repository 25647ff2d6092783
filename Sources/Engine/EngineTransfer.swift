import CCurl

/// One libcurl easy handle and what a transfer on it needs, reused from one request to the next on its worker (no
/// `curl_easy_reset` between bodiless requests: every option that varies is set on every transfer). Its callbacks hand
/// the answer to the worker as it comes: the head once complete, each body piece as libcurl delivers it.
final class EngineTransfer {
    let easy: UnsafeMutableRawPointer
    unowned let worker: EngineWorker
    var lines = UpstreamRequestLines()
    var head = UpstreamHead()
    /// The client this transfer answers; nil once it is finished or aborted.
    var client: EngineClient?
    /// The upstream's head could not be passed on: the transfer was aborted, and its failure answers 502.
    var headRefused = false

    init(worker: EngineWorker) throws(EngineError) {
        guard let easy = curl_easy_init() else { throw EngineError.curl("curl_easy_init failed") }
        self.easy = easy
        self.worker = worker
        let context = Unmanaged.passUnretained(self).toOpaque()
        let workerContext = Unmanaged.passUnretained(worker).toOpaque()
        _ = gw_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = gw_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = gw_easy_setopt_long(easy, CURLOPT_PATH_AS_IS, 1)
        _ = gw_easy_setopt_long(easy, CURLOPT_HTTP_CONTENT_DECODING, 0)
        _ = gw_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        _ = gw_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        // Upstreams are reached as gateway.conf names them, never through a proxy from the environment.
        _ = gw_easy_setopt_string(easy, CURLOPT_NOPROXY, "*")
        _ = gw_easy_setopt_ptr(easy, CURLOPT_PRIVATE, context)
        _ = gw_easy_setopt_header(easy, CURLOPT_HEADERFUNCTION, EngineTransfer.headerCallback)
        _ = gw_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, context)
        _ = gw_easy_setopt_write(easy, CURLOPT_WRITEFUNCTION, EngineTransfer.writeCallback)
        _ = gw_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, context)
        // libcurl's sockets are opened and closed through the worker, which keeps its epoll registry right.
        _ = gw_easy_setopt_opensocket(easy, EngineWorker.openSocketCallback)
        _ = gw_easy_setopt_ptr(easy, CURLOPT_OPENSOCKETDATA, workerContext)
        _ = gw_easy_setopt_closesocket(easy, EngineWorker.closeSocketCallback)
        _ = gw_easy_setopt_ptr(easy, CURLOPT_CLOSESOCKETDATA, workerContext)
    }

    deinit {
        curl_easy_cleanup(easy)
        lines.deallocate()
    }

    /// Sets what varies per request: URL, headers, method, timeouts.
    func configure(method: String, connectTimeoutMilliseconds: Int, timeoutMilliseconds: Int) {
        head.reset()
        headRefused = false
        _ = gw_easy_setopt_string(easy, CURLOPT_URL, lines.url)
        _ = gw_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, lines.list)
        _ = gw_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMilliseconds)
        _ = gw_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        // HTTPGET also clears NOBODY and UPLOAD; a custom method string is cleared for GET.
        _ = gw_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        if method == "HEAD" {
            // A custom "HEAD" alone would make libcurl wait for a body that never comes.
            _ = gw_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
            _ = gw_easy_setopt_ptr(easy, CURLOPT_CUSTOMREQUEST, nil)
        } else if method == "GET" {
            _ = gw_easy_setopt_ptr(easy, CURLOPT_CUSTOMREQUEST, nil)
        } else {
            _ = gw_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)
        }
    }

    private static let headerCallback: curl_write_callback = { data, size, count, context in
        let transfer = Unmanaged<EngineTransfer>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        let line = UnsafeRawBufferPointer(start: data, count: length)
        if transfer.head.receive(line) == .headEnded, !transfer.worker.upstreamHeadEnded(transfer) {
            transfer.headRefused = true
            return 0  // not what libcurl gave: it aborts the transfer (CURLE_WRITE_ERROR)
        }
        return length
    }

    private static let writeCallback: curl_write_callback = { data, size, count, context in
        let transfer = Unmanaged<EngineTransfer>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        transfer.worker.upstreamBody(transfer, UnsafeRawBufferPointer(start: data, count: length))
        return length
    }
}
