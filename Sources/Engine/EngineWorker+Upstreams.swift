#if canImport(CCurl)
import CCurl
import Foundation
import GatewayCore

/// Several upstreams per route (docs/configuration.md, "Forwarding"): the pool picked at the head (`UpstreamPool`,
/// round robin with passive ejection), a refused connection ejects its upstream, a success puts it back, and an
/// idempotent bodiless request is tried once more on another upstream when its connection failed.
extension EngineWorker {
    /// The transfer of `client` failed with `result`. True: it was started again on another upstream (the same easy
    /// handle, a new URL); false: the failure is recorded in the request for its answer and log line.
    func retryElsewhere(_ client: EngineClient, _ transfer: EngineTransfer, result: CURLcode) -> Bool {
        guard let request = client.request else { return false }
        var requestSize = 0
        _ = gw_easy_getinfo_long(transfer.easy, CURLINFO_REQUEST_SIZE, &requestSize)
        let failure = UpstreamFailure(
            curlCode: Int(result.rawValue), message: String(cString: curl_easy_strerror(result)),
            requestWasSent: requestSize > 0)
        if failure.couldNotConnect { request.pool?.recordConnectFailure(request.upstreamIndex) }
        guard client.connection.mayRetry(method: request.method, attempts: request.attempts, failure: failure),
            let pool = request.pool, let next = pool.pick(excluding: request.upstreamIndex)
        else {
            request.failure = failure
            return false
        }
        let upstream = pool.upstreams[next]
        request.attempts += 1
        request.upstreamIndex = next
        request.upstream = upstream.description
        _ = gw_easy_setopt_string(
            transfer.easy, CURLOPT_URL, upstream.url(forPath: request.forwardedPath, query: request.forwardedQuery))
        transfer.head.reset()
        guard curl_multi_add_handle(multi, transfer.easy) == CURLM_OK else {
            request.failure = failure
            return false
        }
        return true
    }

    /// libcurl's total time of the transfer so far, for the log's `upstream_ms`.
    func noteUpstreamTime(_ client: EngineClient, _ easy: UnsafeMutableRawPointer) {
        var seconds = 0.0
        _ = gw_easy_getinfo_double(easy, CURLINFO_TOTAL_TIME, &seconds)
        client.request?.upstreamSeconds = seconds
    }

    /// Whether the client is one of `[server] trusted_proxies`, whose X-Forwarded-* are kept (`HeaderRewriter`).
    func isTrusted(_ client: EngineClient) -> Bool {
        let ranges = settings.planner.rewriter.trustedProxies
        guard !ranges.isEmpty else { return false }
        return ranges.contains { $0.contains(client.peer) }
    }

    /// What a retry elsewhere needs, kept for a route with several upstreams only.
    func rememberPool(_ client: EngineClient, _ plan: ForwardPlan) {
        client.request?.pool = plan.pool
        client.request?.upstreamIndex = plan.upstreamIndex
        client.request?.forwardedPath =
            plan.stripPrefix ? plan.target.strippingPrefix(plan.routePrefix) : plan.target.path
        client.request?.forwardedQuery = plan.target.query
    }
}
#endif
