@testable import Engine

extension UpstreamHead {
    /// `lines` as libcurl's header callback hands them over, one a call with its CRLF, then the blank line that ends
    /// the head (none when `ended` is false).
    static func received(_ lines: [[UInt8]], ended: Bool = true) -> UpstreamHead {
        var head = UpstreamHead()
        head.receive(lines + (ended ? [[]] : []))
        return head
    }

    static func received(_ lines: [String], ended: Bool = true) -> UpstreamHead {
        received(lines.map { Array($0.utf8) }, ended: ended)
    }

    /// Feeds `lines` to this head, each with its CRLF.
    mutating func receive(_ lines: [[UInt8]]) {
        for line in lines {
            _ = (line + Array("\r\n".utf8)).withUnsafeBytes { receive($0) }
        }
    }

    mutating func receive(_ lines: [String]) { receive(lines.map { Array($0.utf8) }) }
}
