import NIOCore
import NIOHTTP1

/// CORS preflights the gateway answers itself (`CorsPolicy`, `RequestPlan.Decision.preflight`).
extension ProxyHandler {
    /// Answers an accepted preflight with 204 and ends the request, as `answer` ends one with an error: a preflight
    /// with a body (no browser sends one) is not kept alive, its unread body would be read as the next request.
    func answerPreflight(
        _ fields: [CorsPolicy.Field], record: RequestRecord, version: HTTPVersion, keepAlive: Bool, bodyUnread: Bool
    ) {
        guard let context, let writer else { return }
        let keepsOpen = keepAlive && !draining
        let sent = writer.writePreflightAnswer(
            fields, version: version, closes: !keepsOpen, requestID: record.log.requestID)
        finish(record, .answered(status: 204, bodyBytes: sent, error: nil))
        if keepsOpen {
            state = .idle
            responseEnded()
        } else if bodyUnread {
            linger()
        } else {
            state = .idle
            context.close(promise: nil)
        }
    }
}
