import CCurl

/// A libcurl easy handle with its error buffer, recycled across transfers through the event thread's free list
/// (`curl_easy_reset` keeps its connection and DNS caches warm). Used only on its event thread.
struct EasyHandle {
    let raw: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER: libcurl's detailed message for the last failure.
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// The request's header list; libcurl reads it until the transfer ends, so it is freed at recycling.
    var headerList: UnsafeMutablePointer<curl_slist>?

    init?() {
        guard let raw = curl_easy_init() else { return nil }
        self.raw = raw
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    /// Frees what the last transfer used and clears every option, ready for the next one.
    mutating func reset() {
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        curl_easy_reset(raw)
        errorBuffer[0] = 0
    }

    func destroy() {
        if let headerList { curl_slist_free_all(headerList) }
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    /// The failure message for `code`: libcurl's detailed one if it wrote one, else the generic text.
    func message(for code: CURLcode) -> String {
        if errorBuffer[0] != 0 { return String(cString: errorBuffer) }
        return String(cString: curl_easy_strerror(code))
    }

    /// Facts libcurl measured for the finished transfer.
    func info(requestBodyBytes: Int, responseBodyBytes: Int) -> CurlTransferInfo {
        var total: Double = 0
        _ = gw_easy_getinfo_double(raw, CURLINFO_TOTAL_TIME, &total)
        var requestSize: Int = 0
        _ = gw_easy_getinfo_long(raw, CURLINFO_REQUEST_SIZE, &requestSize)
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
            requestWasSent: requestSize > 0 || requestBodyBytes > 0
        )
    }
}
