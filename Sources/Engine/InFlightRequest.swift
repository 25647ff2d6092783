import Foundation

/// What the access-log line of the request being answered needs, gathered at its head and completed at its end;
/// written once, by `EngineWorker.finish`, whatever ended the request.
struct InFlightRequest {
    var requestID: String
    var method: String
    var path: Substring
    var route: String?
    var upstream: String?
    var openid: String?
    var isHead: Bool
    var isHTTP10: Bool
    var startedAt: Date
    var status = 0
    var bytesIn = 0
    var bytesOut = 0
}
