import CCurl

extension EasyHandle {
    /// Sets every option for `request` on a recycled handle; `context` comes back in the callbacks.
    ///
    /// The options make libcurl a transparent HTTP/1.1 client: nothing decoded, nothing followed, no header of its
    /// own beyond `Host` and body framing (docs/libcurl.md, "Requests"). `usesProxyEnvironment` is the client's
    /// setting (`CurlClientConfiguration`), the same for every transfer of a thread.
    mutating func configure(
        for request: CurlRequest, context: UnsafeMutableRawPointer, usesProxyEnvironment: Bool = true
    ) throws(CurlError) {
        errorBuffer[0] = 0
        // Until every option is set, a failure leaves the handle half-configured: it must be reset.
        needsReset = true
        if !hasConstantOptions {
            try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
            try set(CURLOPT_PROTOCOLS_STR, string: "http,https")
            try set(CURLOPT_NOSIGNAL, 1)
            try set(CURLOPT_PATH_AS_IS, 1)
            try set(CURLOPT_HTTP_CONTENT_DECODING, 0)
            try set(CURLOPT_FOLLOWLOCATION, 0)
            try set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
            if !usesProxyEnvironment { try set(CURLOPT_NOPROXY, string: "*") }
            try check(gw_easy_setopt_header(raw, CURLOPT_HEADERFUNCTION, CurlCallbacks.header), CURLOPT_HEADERFUNCTION)
            try check(gw_easy_setopt_write(raw, CURLOPT_WRITEFUNCTION, CurlCallbacks.write), CURLOPT_WRITEFUNCTION)
            hasConstantOptions = true
        }
        // Set on every transfer, so a reused handle never keeps the last request's values.
        try set(CURLOPT_PRIVATE, pointer: context)
        try set(CURLOPT_HEADERDATA, pointer: context)
        try set(CURLOPT_WRITEDATA, pointer: context)
        try set(CURLOPT_URL, string: request.url)
        try set(CURLOPT_CONNECTTIMEOUT_MS, max(request.connectTimeoutMilliseconds, 0))
        try set(CURLOPT_TIMEOUT_MS, max(request.timeoutMilliseconds, 0))
        let lowSpeed = request.lowSpeedLimitBytesPerSecond > 0 && request.lowSpeedTimeSeconds > 0
        try set(CURLOPT_LOW_SPEED_LIMIT, lowSpeed ? request.lowSpeedLimitBytesPerSecond : 0)
        try set(CURLOPT_LOW_SPEED_TIME, lowSpeed ? request.lowSpeedTimeSeconds : 0)
        // Options the next transfer might not set again.
        if let path = request.unixSocketPath {
            try set(CURLOPT_UNIX_SOCKET_PATH, string: path)
        }
        if let caFile = request.caFile {
            try set(CURLOPT_CAINFO, string: caFile)
        }
        if request.insecureSkipVerify {
            try set(CURLOPT_SSL_VERIFYPEER, 0)
            try set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        try configureMethodAndBody(request, context: context)
        try configureHeaders(request.headers)
        needsReset = !Self.setsOnlyRepeatedOptions(request)
    }

    /// A bodiless GET without socket or TLS overrides: every option it sets, every transfer sets again (CURLOPT_HTTPGET
    /// included), so the handle can serve the next transfer without `curl_easy_reset`.
    static func setsOnlyRepeatedOptions(_ request: CurlRequest) -> Bool {
        guard case .none = request.body, request.method == "GET" else { return false }
        return request.unixSocketPath == nil && request.caFile == nil && !request.insecureSkipVerify
    }

    private mutating func configureMethodAndBody(
        _ request: CurlRequest,
        context: UnsafeMutableRawPointer
    ) throws(CurlError) {
        let length: Int?
        switch request.body {
        case .none:
            if request.method == "HEAD" {
                // A custom "HEAD" alone would make libcurl wait for a body that never comes.
                try set(CURLOPT_NOBODY, 1)
            } else {
                try set(CURLOPT_HTTPGET, 1)
                if request.method != "GET" { try set(CURLOPT_CUSTOMREQUEST, string: request.method) }
            }
            return
        case .streamed(let declared):
            length = declared
        case .bytes(let buffer):
            length = buffer.readableBytes
        }
        // UPLOAD rather than POST: POST would add a form Content-Type. Without a size libcurl sends chunked.
        try set(CURLOPT_UPLOAD, 1)
        try set(CURLOPT_CUSTOMREQUEST, string: request.method)
        if let length {
            try check(gw_easy_setopt_off(raw, CURLOPT_INFILESIZE_LARGE, curl_off_t(length)), CURLOPT_INFILESIZE_LARGE)
        }
        try check(gw_easy_setopt_read(raw, CURLOPT_READFUNCTION, CurlCallbacks.read), CURLOPT_READFUNCTION)
        try set(CURLOPT_READDATA, pointer: context)
    }

    private mutating func configureHeaders(_ headers: [(name: String, value: String)]) throws(CurlError) {
        let list = headerLines.build(headers)
        try check(gw_easy_setopt_slist(raw, CURLOPT_HTTPHEADER, list), CURLOPT_HTTPHEADER)
    }

    private func set(_ option: CURLoption, _ value: Int) throws(CurlError) {
        try check(gw_easy_setopt_long(raw, option, value), option)
    }

    private func set(_ option: CURLoption, string: String) throws(CurlError) {
        let code = string.withCString { gw_easy_setopt_string(raw, option, $0) }
        try check(code, option)
    }

    private func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer) throws(CurlError) {
        try check(gw_easy_setopt_ptr(raw, option, pointer), option)
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(CurlError) {
        guard code != CURLE_OK else { return }
        let text = String(cString: curl_easy_strerror(code))
        throw CurlError.other(code: Int(code.rawValue), "setting option \(option.rawValue) failed: \(text)")
    }
}
