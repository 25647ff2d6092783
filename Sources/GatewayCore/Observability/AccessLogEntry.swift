import Foundation
import Tokens

/// One line of the access log (DESIGN.md section 6): what happened to one request, written once on
/// every path, success or error. Never holds a token, secret or session key.
public struct AccessLogEntry: Sendable {
    public var time: Date
    public var requestID: String
    public var clientAddress: String?
    public var method: String
    /// Without the query string: queries may carry personal data or codes.
    public var path: Substring
    public var route: String?
    public var status: Int
    public var bytesIn: Int
    public var bytesOut: Int
    public var durationSeconds: Double
    public var upstream: String?
    public var upstreamSeconds: Double?
    public var openid: String?
    public var error: String?

    public init(time: Date, requestID: String, clientAddress: String?, method: String, path: Substring) {
        self.time = time
        self.requestID = requestID
        self.clientAddress = clientAddress
        self.method = method
        self.path = path
        self.status = 0
        self.bytesIn = 0
        self.bytesOut = 0
        self.durationSeconds = 0
    }

    /// The JSON line, built by hand: it is written for every request.
    public func jsonLine() -> String {
        var line = "{\"time\":\"\(Self.timestamp(time))\",\"request_id\":\"\(JSONString.escape(requestID))\""
        if let clientAddress { line += ",\"client\":\"\(JSONString.escape(clientAddress))\"" }
        line += ",\"method\":\"\(JSONString.escape(method))\",\"path\":\"\(JSONString.escape(path))\""
        if let route { line += ",\"route\":\"\(JSONString.escape(route))\"" }
        line += ",\"status\":\(status),\"bytes_in\":\(bytesIn),\"bytes_out\":\(bytesOut)"
        line += ",\"duration_ms\":\(Self.milliseconds(durationSeconds))"
        if let upstream { line += ",\"upstream\":\"\(JSONString.escape(upstream))\"" }
        if let upstreamSeconds { line += ",\"upstream_ms\":\(Self.milliseconds(upstreamSeconds))" }
        if let openid { line += ",\"openid\":\"\(JSONString.escape(openid))\"" }
        if let error { line += ",\"error\":\"\(JSONString.escape(error))\"" }
        line += "}\n"
        return line
    }

    private static func milliseconds(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "0" }
        return String(Double(Int((seconds * 1000 * 1000).rounded())) / 1000)
    }

    /// RFC 3339 in UTC with milliseconds, without a DateFormatter (not cheap, not thread-safe to share).
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        let millis = Int((date.timeIntervalSince1970 - Double(seconds)) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
