import GatewayCore
import NIOHTTP1
import SmallHTTP

extension ClientHeadWriter {
    /// A control endpoint's answer (`/auth/*`, `/.well-known/jwks.json`): its fields, a Content-Length when the
    /// status may have a body, the request id, the CORS fields, a Date (RFC 9110 section 6.6.1) and the connection's
    /// fate. A HEAD answer announces the length and
    /// carries no body (RFC 9110 section 9.3.2). Returns the status and the body bytes written.
    static func writeControlAnswer(
        _ response: ControlResponse, requestID: String, isHead: Bool, closes: Bool, isHTTP10: Bool,
        cors: CorsPolicy.AnswerFields = .none, into out: inout [UInt8]
    ) -> (status: Int, bodyBytes: Int) {
        let status = Int(response.status.code)
        let hasBody = response.status.mayHaveResponseBody
        writeStatusLine(status, into: &out)
        for (name, value) in response.headers where !Self.isReplaced(name) { field(name, value, into: &out) }
        if hasBody { field("Content-Length", String(response.body.utf8.count), into: &out) }
        field("X-Request-Id", requestID, into: &out)
        for line in cors.lines(after: response.headers.map { (name: $0.0, value: $0.1) }) {
            field(line.name, line.value, into: &out)
        }
        field("Date", HTTPDate.now(), into: &out)
        if closes {
            append("Connection: close\r\n", to: &out)
        } else if isHTTP10 {
            append("Connection: keep-alive\r\n", to: &out)
        }
        append("\r\n", to: &out)
        guard hasBody, !isHead else { return (status, 0) }
        out.append(contentsOf: response.body.utf8)
        return (status, response.body.utf8.count)
    }

    /// Fields the writer sets itself, so an endpoint's own never doubles them.
    private static func isReplaced(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return lowered == "content-length" || lowered == "x-request-id" || lowered == "connection"
    }
}
