import CCurl

extension EngineTransfer {
    /// libcurl's own CA bundle, restored after a transfer that used a route's `ca_file`.
    private static let defaultCAInfo: String? = curl_version_info(CURLVERSION_ELEVENTH)?.pointee.cainfo.map {
        String(cString: $0)
    }

    /// How an HTTPS upstream's certificate is checked, as `EasyHandle` checks it: against the route's `ca_file`
    /// when it has one, not at all with `insecure_skip_verify` (announced at load), else against the system bundle.
    /// The handle is reused without `curl_easy_reset`, so a transfer after one that changed these sets them back.
    func verifyUpstream(caFile: String?, insecure: Bool) {
        guard caFile != nil || insecure || verificationChanged else { return }
        verificationChanged = caFile != nil || insecure
        if let caFile {
            _ = gw_easy_setopt_string(easy, CURLOPT_CAINFO, caFile)
        } else if let bundle = Self.defaultCAInfo {
            _ = gw_easy_setopt_string(easy, CURLOPT_CAINFO, bundle)
        } else {
            _ = gw_easy_setopt_ptr(easy, CURLOPT_CAINFO, nil)
        }
        _ = gw_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, insecure ? 0 : 1)
        _ = gw_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, insecure ? 0 : 2)
    }
}
