import CCurl

/// One libcurl easy handle and what a transfer on it needs, reused from one request to the next on its worker (no
/// `curl_easy_reset` between bodiless requests: every option that varies is set on every transfer). Its callbacks hand
/// the answer to the worker as it comes: the head once complete, each body piece as libcurl delivers it.
final class EngineTransfer {
    let easy: UnsafeMutableRawPointer
    /// Unowned and unchecked: the worker owns its transfers and outlives them (it runs until the process ends), and a
    /// checked `unowned` reference cost a strong retain and release on every header line and body piece.
    unowned(unsafe) let worker: EngineWorker
    var lines = UpstreamRequestLines()
    var head = UpstreamHead()
    /// The client this transfer answers; nil once it is finished or aborted.
    var client: EngineClient?
    /// The upstream's head could not be passed on: the transfer was aborted, and its failure answers 502.
    var headRefused = false
    /// The last transfer changed how the upstream's certificate is verified (`EngineTransfer+UpstreamTLS`).
    var verificationChanged = false

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
        // Called only for uploads (CURLOPT_UPLOAD), which set it to the request's body.
        _ = gw_easy_setopt_read(easy, CURLOPT_READFUNCTION, EngineTransfer.readCallback)
        _ = gw_easy_setopt_ptr(easy, CURLOPT_READDATA, context)
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

    /// What the upstream request carries as its body.
    enum Body: Equatable {
        case none
        /// Streamed from the client's connection: with `Content-Length` when the client gave one, else chunked.
        case streamed(length: Int?)
        /// An explicit empty body (a POST, PUT or PATCH without one), so the upstream sees `Content-Length: 0`
        /// rather than a bodiless POST.
        case empty
    }

    /// The body of the transfer in flight.
    private(set) var body = Body.none

    /// Sets what varies per request: URL, headers, method, body, timeouts.
    func configure(method: String, body: Body, connectTimeoutMilliseconds: Int, timeoutMilliseconds: Int) {
        head.reset()
        headRefused = false
        self.body = body
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
        if body != .none {
            // UPLOAD rather than POST, which would add a form Content-Type (docs/libcurl.md, "Requests"). Without a
            // size libcurl sends chunked; the request lines' empty `Expect:` keeps it from asking for 100-continue.
            _ = gw_easy_setopt_long(easy, CURLOPT_UPLOAD, 1)
            _ = gw_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)
            let length: Int
            switch body {
            case .streamed(let declared): length = declared ?? -1
            case .empty, .none: length = 0
            }
            _ = gw_easy_setopt_off(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(length))
        }
    }

    // The callbacks borrow the transfer (`_withUnsafeGuaranteedRef`): the worker holds it (`client.transfer`) while
    // libcurl can call back, and a strong reference taken per header line was a retain and release each time.
    private static let headerCallback: curl_write_callback = { data, size, count, context in
        Unmanaged<EngineTransfer>.fromOpaque(context!)._withUnsafeGuaranteedRef { transfer in
            let length = size * count
            let line = UnsafeRawBufferPointer(start: data, count: length)
            if transfer.head.receive(line) == .headEnded, !transfer.worker.upstreamHeadEnded(transfer) {
                transfer.headRefused = true
                return 0  // not what libcurl gave: it aborts the transfer (CURLE_WRITE_ERROR)
            }
            return length
        }
    }

    /// libcurl asks for request body: the worker copies what waits in the client's read buffer, or pauses the upload.
    private static let readCallback: curl_read_callback = { data, size, count, context in
        Unmanaged<EngineTransfer>.fromOpaque(context!)._withUnsafeGuaranteedRef { transfer in
            guard let data else { return gw_readfunc_abort() }
            switch transfer.body {
            case .empty: return 0
            case .none: return gw_readfunc_abort()
            case .streamed: return transfer.worker.uploadRead(transfer, into: data, capacity: size * count)
            }
        }
    }

    private static let writeCallback: curl_write_callback = { data, size, count, context in
        Unmanaged<EngineTransfer>.fromOpaque(context!)._withUnsafeGuaranteedRef { transfer in
            let length = size * count
            transfer.worker.upstreamBody(transfer, UnsafeRawBufferPointer(start: data, count: length))
            return length
        }
    }
}
