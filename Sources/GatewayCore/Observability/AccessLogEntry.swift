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

    /// The JSON line, for tests and callers that want text; the access log itself uses `write(into:)`.
    public func jsonLine() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the JSON line, newline included, to `buffer`. Built by hand, byte by byte, because it runs for every
    /// request: built from Strings it took 7.7% of the gateway's CPU per proxied request in a profile. The line's upper
    /// bound is reserved once and written through a `JSONByteCursor`: through `Array.append` calls, one per piece and
    /// per digit, it still took 1.6% of the process. Keys are always in this order.
    /// Through `JSONByteCursor.append(to:reserving:_:)`, which is out of line so that the entry is not copied into a
    /// specialisation of it (see there).
    public func write(into buffer: inout [UInt8]) {
        JSONByteCursor.append(to: &buffer, reserving: maximumLength) { write(to: &$0) }
    }

    /// The most `write(into:)` writes: the strings at their longest escaped, and 512 for the rest: keys and
    /// punctuation (under 200 bytes), the timestamp (`AccessLogTimestamp.maximumLength`), three integers (20 bytes
    /// each at most), two durations (17 at most: under 1e12 ms, a point, three digits) and a trace id's 32 digits.
    private var maximumLength: Int {
        typealias Cursor = JSONByteCursor
        return 512 + Cursor.maximumLength(ofString: requestID) + Cursor.maximumLength(ofString: traceID)
            + Cursor.maximumLength(ofString: clientAddress) + Cursor.maximumLength(ofString: method)
            + Cursor.maximumLength(ofString: path) + Cursor.maximumLength(ofString: route)
            + Cursor.maximumLength(ofString: upstream) + Cursor.maximumLength(ofString: openid)
            + Cursor.maximumLength(ofString: error)
    }

    private func write(to line: inout JSONByteCursor) {
        line.appendRaw("{\"time\":\"")
        AccessLogTimestamp.write(time, to: &line)
        line.appendRaw("\",\"request_id\":")
        line.appendString(requestID)
        if let traceID {
            line.appendMember(",\"trace_id\":", traceID)
        } else if let traceIDHalves {
            line.appendRaw(",\"trace_id\":\"")
            line.appendHex(traceIDHalves.high)
            line.appendHex(traceIDHalves.low)
            line.appendByte(UInt8(ascii: "\""))
        }
        line.appendMember(",\"client\":", clientAddress)
        line.appendMember(",\"method\":", method)
        line.appendMember(",\"path\":", path)
        line.appendMember(",\"route\":", route)
        line.appendMember(",\"status\":", status)
        line.appendMember(",\"bytes_in\":", bytesIn)
        line.appendMember(",\"bytes_out\":", bytesOut)
        line.appendRaw(",\"duration_ms\":")
        Self.writeMilliseconds(durationSeconds, to: &line)
        line.appendMember(",\"upstream\":", upstream)
        if let upstreamSeconds {
            line.appendRaw(",\"upstream_ms\":")
            Self.writeMilliseconds(upstreamSeconds, to: &line)
        }
        line.appendMember(",\"openid\":", openid)
        line.appendMember(",\"error\":", error)
        line.appendRaw("}\n")
    }

    /// Milliseconds rounded to the microsecond, written as `String(Double(micros) / 1000)` writes them ("54.503",
    /// "0.5", "12.0"); "0" for a duration that cannot be one. Below 1e12 Doubles lie far closer together than 0.001,
    /// so every thousandth is a Double of its own and its shortest round-trip form is the thousandth itself: whole
    /// part, point, fraction without trailing zeros but at least one digit. Swift prints such values without an
    /// exponent from 1e-4 up to 2^53.
    private static func writeMilliseconds(_ seconds: Double, to line: inout JSONByteCursor) {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else {
            line.appendByte(UInt8(ascii: "0"))
            return
        }
        let micros = roundedMicroseconds(seconds)
        let (whole, fraction) = micros.quotientAndRemainder(dividingBy: 1000)
        line.appendDigits(whole)
        line.appendByte(UInt8(ascii: "."))
        let tenths = fraction / 100
        let hundredths = fraction / 10 % 10
        let thousandths = fraction % 10
        line.appendByte(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: tenths))
        if hundredths != 0 || thousandths != 0 {
            line.appendByte(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: hundredths))
        }
        if thousandths != 0 {
            line.appendByte(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: thousandths))
        }
    }

    /// `Int((seconds * 1000 * 1000).rounded()).magnitude` for `seconds` in `0..<1e9` (-0 included), without
    /// `rounded()`: on x86-64 without SSE4.1 it is a call to libm's `round`, twice per line. Below 2^53 the
    /// fraction `scaled - trunc(scaled)` is exact (a Double's fraction bits, subtracted without rounding), so adding
    /// one when it is at least a half is rounding half away from zero, as `rounded()` does.
    static func roundedMicroseconds(_ seconds: Double) -> UInt {
        let scaled = seconds * 1000 * 1000
        let whole = Int(scaled)
        return (scaled - Double(whole) >= 0.5 ? whole + 1 : whole).magnitude
    }
}

extension AccessLogEntry {
    /// Through the memberwise initializer (which is why this one is in an extension), every field given at once: set
    /// one by one, as it was, the optimised init built the entry in a temporary, then copied it out (a retain of each
    /// String) and destroyed the temporary (a release of each): twice the reference counting of every String, once
    /// per request, for nothing.
    public init(time: Date, requestID: String, clientAddress: String?, method: String, path: Substring) {
        self.init(
            time: time, requestID: requestID, traceID: nil, traceIDHalves: nil, clientAddress: clientAddress,
            method: method, path: path, route: nil, status: 0, bytesIn: 0, bytesOut: 0, durationSeconds: 0,
            upstream: nil, upstreamSeconds: nil, openid: nil, error: nil)
    }
}
