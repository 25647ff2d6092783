import GatewayCore
import SmallHTTP

/// CORS in what the engine writes (issue 23): the preflight answer, and the upstream's `Access-Control-*` fields
/// dropped while `[cors]` is on.
extension ClientHeadWriter {
    /// The gateway's answer to a preflight it accepted: 204 with the policy's fields (`writePreflightAnswer`).
    static func writePreflight(
        _ fields: [CorsPolicy.Field], requestID: String, closes: Bool, isHTTP10: Bool, into out: inout [UInt8]
    ) {
        writeStatusLine(204, http10: isHTTP10, into: &out)
        for line in fields { field(line.name, line.value, into: &out) }
        field("X-Request-Id", requestID, into: &out)
        if closes {
            append("Connection: close\r\n", to: &out)
        } else if isHTTP10 {
            append("Connection: keep-alive\r\n", to: &out)
        }
        field("Date", HTTPDate.now(), into: &out)
        append("\r\n", to: &out)
    }

    /// Whether an upstream field is one `[cors]` owns (dropped). A `Vary` field is kept and also noted in `vary`, so
    /// `Vary: Origin` is not added twice (`CorsPolicy.AnswerFields.lines`).
    static func isCorsField(
        _ name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, vary: inout [(name: String, value: String)]
    ) -> Bool {
        if name.count == 4 && ConnectionNames.equalsLowercased(name, "vary") {
            vary.append(("Vary", String(decoding: value, as: UTF8.self)))
            return false
        }
        let prefix: StaticString = "access-control-"
        guard name.count > prefix.utf8CodeUnitCount else { return false }
        return ConnectionNames.equalsLowercased(
            UnsafeRawBufferPointer(rebasing: name[0..<prefix.utf8CodeUnitCount]), prefix)
    }
}
