/// What a `101 Switching Protocols` must say for a tunnel to open: the one protocol switched to, and fields whose
/// exact values prove the upstream took this request (a WebSocket `Sec-WebSocket-Accept`). Anything else is an
/// invalid answer: the tunnel ends with `.failed(.brokenResponse)` and the connection closes before a byte is
/// relayed.
public struct CurlSwitchExpectation: Sendable, Equatable {
    /// The protocol the 101's `Upgrade` must name, alone (compared case-insensitively).
    public var upgrade: String
    /// Fields that must appear exactly once with exactly this value (names compared case-insensitively).
    public var fields: [Field]

    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(upgrade: String, fields: [Field] = []) {
        self.upgrade = upgrade
        self.fields = fields
    }

    /// Why `head` does not switch as expected, or nil when it does. RFC 9110 section 7.8: the 101 names the protocol
    /// in `Upgrade` and, as `Upgrade` is hop-by-hop, lists `upgrade` in `Connection`.
    public func mismatch(in head: CurlResponseHead) -> String? {
        let upgrades = head.values(of: "upgrade").flatMap(Self.elements)
        guard upgrades.count == 1, upgrades[0].lowercased() == upgrade.lowercased() else {
            return "the 101 answer does not switch to \(upgrade) alone"
        }
        guard head.values(of: "connection").flatMap(Self.elements).contains(where: { $0.lowercased() == "upgrade" })
        else {
            return "the 101 answer does not list upgrade in Connection"
        }
        for field in fields {
            let values = head.values(of: field.name)
            guard values.count == 1, values[0] == field.value else {
                return "the 101 answer's \(field.name) is not the expected one"
            }
        }
        return nil
    }

    private static func elements(_ value: String) -> [Substring] {
        value.split(separator: ",").map { element in
            var element = element[...]
            while element.first == " " || element.first == "\t" { element = element.dropFirst() }
            while element.last == " " || element.last == "\t" { element = element.dropLast() }
            return element
        }.filter { !$0.isEmpty }
    }
}
