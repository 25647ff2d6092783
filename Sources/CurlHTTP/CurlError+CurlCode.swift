extension CurlError {
    /// Classifies a libcurl result code (`CURLcode`, not `CURLE_OK`) by what the caller can do about it.
    ///
    /// `requestWasSent` separates a connection that died before the request went out (retryable like a refusal)
    /// from one that broke during the exchange.
    public init(curlCode code: Int, message: String, requestWasSent: Bool) {
        switch code {
        case 5, 6, 7, 35, 53, 54, 58, 59, 60, 64, 66, 77, 82, 83, 90, 91:
            // COULDNT_RESOLVE_PROXY/HOST, COULDNT_CONNECT, SSL_CONNECT_ERROR, SSL_ENGINE_*, SSL_CERTPROBLEM,
            // SSL_CIPHER, PEER_FAILED_VERIFICATION, USE_SSL_FAILED, SSL_ENGINE_INITFAILED, SSL_CACERT_BADFILE,
            // SSL_CRL_BADFILE, SSL_ISSUER_ERROR, SSL_PINNEDPUBKEYNOTMATCH, SSL_INVALIDCERTSTATUS
            self = .couldNotConnect(message)
        case 28:  // OPERATION_TIMEDOUT: connect, total and low-speed limits alike
            self = .timedOut(message)
        case 55, 56, 52:  // SEND_ERROR, RECV_ERROR, GOT_NOTHING
            self = requestWasSent ? .brokenResponse(message) : .couldNotConnect(message)
        case 1 where requestWasSent:
            // UNSUPPORTED_PROTOCOL once the request is out: the answer did not start with a status line ("Received
            // HTTP/0.9"), e.g. bytes an upstream sent after an earlier answer on the same connection.
            self = .brokenResponse(message)
        case 8, 16, 18, 61, 92, 95:
            // WEIRD_SERVER_REPLY, HTTP2, PARTIAL_FILE, BAD_CONTENT_ENCODING, HTTP2_STREAM, HTTP3
            self = .brokenResponse(message)
        case 27 where requestWasSent:
            // OUT_OF_MEMORY once the request is out is, in libcurl 7.88, a response header block over its 100 KiB
            // limit (CURL_MAX_HTTP_HEADER): a broken answer, as nginx's "upstream sent too big header".
            self = .brokenResponse("response header block too large (\(message))")
        case 26, 42:  // READ_ERROR, ABORTED_BY_CALLBACK: the request body could not be read
            self = .requestBodyFailed(message)
        default:
            self = .other(code: code, message)
        }
    }
}
