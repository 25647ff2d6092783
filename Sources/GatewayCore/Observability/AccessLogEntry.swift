import Foundation
import JSON

/// One line of the access log (README.md, "Operations"): what happened to one request, written once on
/// every path, success or error. Never holds a token, secret or session key.
public struct AccessLogEntry: Sendable {
    public var time: Date
    public var requestID: String
    /// The W3C trace id (32 hex digits) of the request's span: the caller's trace or a new one, whether or not
    /// `[tracing]` exports spans, so a log line finds the upstream's trace.
    public var traceID: String?
    /// The same id as its two halves (`TraceParent.traceIDHigh`, `traceIDLow`), written as the same 32 hex digits
    /// straight into the line: the engine sets this rather than `traceID`, so no String per request. Written only
    /// when `traceID` is nil.
    public var traceIDHalves: (high: UInt64, low: UInt64)?
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

    /// The JSON line, for tests and callers that want text; the access log itself uses `write(into:)`.
    public func jsonLine() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the JSON line, newline included, to `buffer`. Built by hand, byte by byte, because it runs for every
    /// request: built from Strings it took 7.7% of the gateway's CPU per proxied request in a profile. Keys are always
    /// in this order.
    public func write(into buffer: inout [UInt8]) {
        typealias JSON = JSONByteWriter
        JSON.appendRaw("{\"time\":\"", to: &buffer)
        Self.appendTimestamp(time, to: &buffer)
        JSON.appendRaw("\",\"request_id\":", to: &buffer)
        JSON.appendString(requestID, to: &buffer)
        if let traceID {
            JSON.appendMember(",\"trace_id\":", traceID, to: &buffer)
        } else if let traceIDHalves {
            JSON.appendRaw(",\"trace_id\":\"", to: &buffer)
            Self.appendHex(traceIDHalves.high, to: &buffer)
            Self.appendHex(traceIDHalves.low, to: &buffer)
            buffer.append(UInt8(ascii: "\""))
        }
        JSON.appendMember(",\"client\":", clientAddress, to: &buffer)
        JSON.appendMember(",\"method\":", method, to: &buffer)
        JSON.appendMember(",\"path\":", path, to: &buffer)
        JSON.appendMember(",\"route\":", route, to: &buffer)
        JSON.appendMember(",\"status\":", status, to: &buffer)
        JSON.appendMember(",\"bytes_in\":", bytesIn, to: &buffer)
        JSON.appendMember(",\"bytes_out\":", bytesOut, to: &buffer)
        JSON.appendRaw(",\"duration_ms\":", to: &buffer)
        Self.appendMilliseconds(durationSeconds, to: &buffer)
        JSON.appendMember(",\"upstream\":", upstream, to: &buffer)
        if let upstreamSeconds {
            JSON.appendRaw(",\"upstream_ms\":", to: &buffer)
            Self.appendMilliseconds(upstreamSeconds, to: &buffer)
        }
        JSON.appendMember(",\"openid\":", openid, to: &buffer)
        JSON.appendMember(",\"error\":", error, to: &buffer)
        JSON.appendRaw("}\n", to: &buffer)
    }

    /// Milliseconds rounded to the microsecond, written as `String(Double(micros) / 1000)` writes them ("54.503",
    /// "0.5", "12.0"); "0" for a duration that cannot be one. Below 1e12 Doubles lie far closer together than 0.001,
    /// so every thousandth is a Double of its own and its shortest round-trip form is the thousandth itself: whole
    /// part, point, fraction without trailing zeros but at least one digit. Swift prints such values without an
    /// exponent from 1e-4 up to 2^53.
    private static func appendMilliseconds(_ seconds: Double, to buffer: inout [UInt8]) {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else {
            buffer.append(UInt8(ascii: "0"))
            return
        }
        let micros = Int((seconds * 1000 * 1000).rounded()).magnitude
        let (whole, fraction) = micros.quotientAndRemainder(dividingBy: 1000)
        JSONByteWriter.appendDigits(whole, to: &buffer)
        buffer.append(UInt8(ascii: "."))
        let tenths = fraction / 100
        let hundredths = fraction / 10 % 10
        let thousandths = fraction % 10
        buffer.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: tenths))
        if hundredths != 0 || thousandths != 0 {
            buffer.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: hundredths))
        }
        if thousandths != 0 {
            buffer.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: thousandths))
        }
    }

    /// 16 lowercase hex digits, as `TraceParent.traceIDHex` writes each half.
    private static func appendHex(_ value: UInt64, to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: 16))
        buffer.withUnsafeMutableBufferPointer { bytes in
            Hex.write(value, into: UnsafeMutableBufferPointer(rebasing: bytes[start..<start + 16]))
        }
    }

    /// RFC 3339 in UTC with milliseconds, from `gmtime_r` (a DateFormatter is neither cheap nor safe to share).
    private static func appendTimestamp(_ date: Date, to buffer: inout [UInt8]) {
        var seconds = time_t(date.timeIntervalSince1970)
        let millis = Int((date.timeIntervalSince1970 - Double(seconds)) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        appendPadded(Int(parts.tm_year + 1900), width: 4, to: &buffer)
        buffer.append(UInt8(ascii: "-"))
        appendPadded(Int(parts.tm_mon + 1), width: 2, to: &buffer)
        buffer.append(UInt8(ascii: "-"))
        appendPadded(Int(parts.tm_mday), width: 2, to: &buffer)
        buffer.append(UInt8(ascii: "T"))
        appendPadded(Int(parts.tm_hour), width: 2, to: &buffer)
        buffer.append(UInt8(ascii: ":"))
        appendPadded(Int(parts.tm_min), width: 2, to: &buffer)
        buffer.append(UInt8(ascii: ":"))
        appendPadded(Int(parts.tm_sec), width: 2, to: &buffer)
        buffer.append(UInt8(ascii: "."))
        appendPadded(millis, width: 3, to: &buffer)
        buffer.append(UInt8(ascii: "Z"))
    }

    /// `value` with zeros in front up to `width` characters. The zeros go before a minus sign, as the String-built
    /// timestamp always wrote them; only a time before 1970 has one.
    private static func appendPadded(_ value: Int, width: Int, to buffer: inout [UInt8]) {
        let length = JSONByteWriter.digitCount(value.magnitude) + (value < 0 ? 1 : 0)
        if length < width {
            buffer.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - length))
        }
        JSONByteWriter.appendInteger(value, to: &buffer)
    }
}
