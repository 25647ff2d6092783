import GatewayCore

/// The upstream's answer to a tunnel's upgrade request, checked on the bytes as they are read. Only a `101` that
/// switches to `websocket` alone, lists `upgrade` in `Connection` (RFC 9110 section 7.8) and carries exactly the
/// `Sec-WebSocket-Accept` that proves the upstream read this handshake (RFC 6455 section 4.1, the client's checks)
/// opens the tunnel.
struct TunnelAnswer {
    enum Outcome: Equatable {
        case needMore
        /// Switched: the head is `headLength` bytes; what follows is the upstream's first bytes for the client.
        case switched(headLength: Int)
        /// Another final answer: passed on to the client as it is, then the connection closes.
        case refused(status: Int)
        case invalid(String)
    }

    /// A head larger than this is not an answer worth waiting for.
    static let maxHeadBytes = 16 * 1024

    let expectedAccept: String
    private(set) var bytes: [UInt8] = []

    init(expectedAccept: String) {
        self.expectedAccept = expectedAccept
    }

    mutating func feed(_ chunk: UnsafeRawBufferPointer) -> Outcome {
        let searchFrom = max(0, bytes.count - 3)
        bytes.append(contentsOf: chunk)
        guard let end = Self.headEnd(bytes, from: searchFrom) else {
            return bytes.count > Self.maxHeadBytes ? .invalid("the upgrade answer's head is too large") : .needMore
        }
        return Self.judge(bytes[..<end], expectedAccept: expectedAccept)
    }

    /// The upstream closed before a whole head came.
    func finish() -> Outcome {
        .invalid("the upstream closed before answering the upgrade")
    }

    static func headEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    static func judge(_ head: ArraySlice<UInt8>, expectedAccept: String) -> Outcome {
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else { return .invalid("an empty upgrade answer") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...599).contains(status)
        else { return .invalid("the upgrade answer's status line is malformed") }
        // RFC 9110 section 5.5: no CR, LF or NUL in a value, a token for a name. Either answer's fields are passed on
        // (`switchingHead`, `refusedHead`), and the head is split on CRLF only: a bare LF in a value would be the end
        // of a line to the client, and what follows a field of the upstream's making.
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), Self.isValidField(line, colon: colon) else {
                return .invalid("a malformed field in the upgrade answer")
            }
        }
        guard status == 101 else {
            // An interim answer before the final one is not expected here: only 101 switches.
            return status < 200 ? .invalid("an interim answer to the upgrade") : .refused(status: status)
        }
        var upgrades: [Substring] = []
        var connection: [Substring] = []
        var accepts: [Substring] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }  // checked above
            let name = line[..<colon].lowercased()
            let value = trimmed(line[line.index(after: colon)...])
            switch name {
            case "upgrade": upgrades += elements(value)
            case "connection": connection += elements(value)
            case "sec-websocket-accept": accepts.append(value)
            default: break
            }
        }
        guard upgrades.count == 1, upgrades[0].lowercased() == "websocket" else {
            return .invalid("the 101 answer does not switch to websocket alone")
        }
        guard connection.contains(where: { $0.lowercased() == "upgrade" }) else {
            return .invalid("the 101 answer does not list upgrade in Connection")
        }
        guard accepts.count == 1, accepts[0] == expectedAccept else {
            return .invalid("the 101 answer's Sec-WebSocket-Accept is not the expected one")
        }
        return .switched(headLength: head.count)
    }

    /// The 101 for the client (`HeaderRewriter`'s response rules): the upstream's own fields
    /// (`Sec-WebSocket-Accept`, `-Protocol`, `-Extensions`) without hop-by-hop ones and those its `Connection` names,
    /// the request id unless it sent one, and the switch itself, which the usual rewrite drops as hop-by-hop.
    static func switchingHead(_ head: ArraySlice<UInt8>, requestID: String) -> [UInt8] {
        let text = String(decoding: head, as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: true).dropFirst()
        var named: [String] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "connection" else { continue }
            named += elements(line[line.index(after: colon)...]).map { $0.lowercased() }
        }
        var out = "HTTP/1.1 101 Switching Protocols\r\n"
        var sawRequestID = false
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon]
            let lowered = name.lowercased()
            if lowered == "upgrade" || named.contains(lowered) { continue }
            switch Array(name.utf8).withUnsafeBytes({ HeaderRewriter.responseFieldRule(name: $0) }) {
            case .drop, .connection, .contentLength, .transferEncoding: continue
            case .requestID: sawRequestID = true
            case .pass, .date: break
            }
            out += name + ": " + trimmed(line[line.index(after: colon)...]) + "\r\n"
        }
        if !sawRequestID { out += "X-Request-Id: \(requestID)\r\n" }
        out += "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        return Array(out.utf8)
    }

    /// A refused upgrade's head for the client (`HeaderRewriter`'s response rule, as plain answers get it):
    /// the upstream's status and fields without hop-by-hop ones, those its `Connection` names, or a copy of the
    /// gateway's mark; the request id unless it sent one; `Connection: close`, since the body that follows is
    /// relayed as it comes until the upstream closes. Its framing fields stay: they describe those bytes.
    static func refusedHead(_ head: ArraySlice<UInt8>, requestID: String) -> [UInt8] {
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else { return Array(head) }
        let statusLine = lines.removeFirst()
        var named: [String] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "connection" else { continue }
            named += elements(line[line.index(after: colon)...]).map { $0.lowercased() }
        }
        // The client asked in HTTP/1.1 (an upgrade needs it): the answer says so whatever the upstream spoke.
        var out = "HTTP/1.1" + statusLine.drop { $0 != " " } + "\r\n"
        var sawRequestID = false
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon]
            if named.contains(name.lowercased()) { continue }
            switch Array(name.utf8).withUnsafeBytes({ HeaderRewriter.responseFieldRule(name: $0) }) {
            case .drop, .connection: continue
            case .requestID: sawRequestID = true
            case .pass, .date, .contentLength, .transferEncoding: break
            }
            out += name + ": " + trimmed(line[line.index(after: colon)...]) + "\r\n"
        }
        if !sawRequestID { out += "X-Request-Id: \(requestID)\r\n" }
        out += "Connection: close\r\n\r\n"
        return Array(out.utf8)
    }

    /// `HeaderRewriter`'s name and value checks, as plain answers get them (`UpstreamHead`).
    private static func isValidField(_ line: Substring, colon: Substring.Index) -> Bool {
        let name = Array(line[..<colon].utf8)
        let value = Array(trimmed(line[line.index(after: colon)...]).utf8)
        return name.withUnsafeBytes(HeaderRewriter.isValidFieldName)
            && value.withUnsafeBytes(HeaderRewriter.isValidFieldValue)
    }

    private static func trimmed(_ value: Substring) -> Substring {
        var value = value
        while value.first == " " || value.first == "\t" { value = value.dropFirst() }
        while value.last == " " || value.last == "\t" { value = value.dropLast() }
        return value
    }

    private static func elements(_ value: Substring) -> [Substring] {
        value.split(separator: ",").map(trimmed).filter { !$0.isEmpty }
    }
}
