import CCurl

/// A libcurl easy handle with its error buffer, recycled across transfers through the event thread's free list.
/// Used only on its event thread.
///
/// libcurl keeps options across transfers on one handle. A handle whose last transfer used only the options every
/// transfer sets again (a bodiless GET with no TLS or socket overrides, by far the most common) is reused as it is;
/// any other goes through `curl_easy_reset` first, so no option of one request leaks into the next. Skipping the
/// reset and the constant options saves libcurl freeing and rebuilding its option state per request.
struct EasyHandle {
    let raw: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER: libcurl's detailed message for the last failure.
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// The request's header list; libcurl reads it until the transfer ends.
    var headerLines = HeaderLines()
    /// The options that never change (callbacks, protocol limits, the error buffer) are set.
    var hasConstantOptions = false
    /// The last transfer set an option that the next one might not set again: reset before reuse.
    var needsReset = false

    init?() {
        guard let raw = curl_easy_init() else { return nil }
        self.raw = raw
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    /// Frees what the last transfer used and, if it set options the next transfer might not override, clears
    /// every option; ready for the next transfer either way.
    mutating func recycle() {
        headerLines.release()
        if needsReset {
            curl_easy_reset(raw)
            needsReset = false
            hasConstantOptions = false
        }
        errorBuffer[0] = 0
    }

    func destroy() {
        curl_easy_cleanup(raw)
        var headerLines = headerLines
        headerLines.deallocate()
        errorBuffer.deallocate()
    }

    /// The failure message for `code`: libcurl's detailed one if it wrote one, else the generic text.
    func message(for code: CURLcode) -> String {
        if errorBuffer[0] != 0 { return String(cString: errorBuffer) }
        return String(cString: curl_easy_strerror(code))
    }

    /// Whether any of the request reached the upstream (a retry elsewhere is safe only if not).
    func requestWasSent(requestBodyBytes: Int) -> Bool {
        var requestSize: Int = 0
        _ = gw_easy_getinfo_long(raw, CURLINFO_REQUEST_SIZE, &requestSize)
        return requestSize > 0 || requestBodyBytes > 0
    }

    /// Facts libcurl measured for the finished transfer.
    func info(requestBodyBytes: Int, responseBodyBytes: Int) -> CurlTransferInfo {
        var total: Double = 0
        _ = gw_easy_getinfo_double(raw, CURLINFO_TOTAL_TIME, &total)
        var ipPointer: UnsafeMutableRawPointer?
        _ = gw_easy_getinfo_ptr(raw, CURLINFO_PRIMARY_IP, &ipPointer)
        var address: String?
        if let ipPointer {
            let text = String(cString: ipPointer.assumingMemoryBound(to: CChar.self))
            address = text.isEmpty ? nil : text
        }
        return CurlTransferInfo(
            remoteAddress: address,
            totalSeconds: total,
            requestBodyBytes: requestBodyBytes,
            responseBodyBytes: responseBodyBytes,
            requestWasSent: requestWasSent(requestBodyBytes: requestBodyBytes)
        )
    }
}
