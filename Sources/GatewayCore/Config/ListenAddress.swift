/// Where a listener binds: `"127.0.0.1:8080"`, `"0.0.0.0:443"`, `"[::1]:8080"` or `"localhost:8080"`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; IPv6 hosts go in brackets. The port is required (0 asks the OS for one).
    public init?(configText text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let afterClose = text[text.index(after: close)...]
            guard afterClose.hasPrefix(":") else { return nil }
            portPart = afterClose.dropFirst()
            guard hostPart.contains(":"), hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." })
            else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":"), Self.isHostName(hostPart) else { return nil }
        }
        guard !hostPart.isEmpty, !portPart.isEmpty, portPart.count <= 5,
            portPart.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portPart), port <= 65_535
        else { return nil }
        self.host = String(hostPart)
        self.port = port
    }

    private static func isHostName(_ text: Substring) -> Bool {
        text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
