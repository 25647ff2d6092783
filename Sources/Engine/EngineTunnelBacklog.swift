/// Bytes read from one side of an engine tunnel that the other side has not taken yet (issue 23), from `sent` on.
/// Empty, with no storage, while the other side keeps up: a message taken whole never lands here.
struct EngineTunnelBacklog {
    private(set) var bytes: [UInt8] = []
    private(set) var sent = 0

    /// Bytes still to be written.
    var count: Int { bytes.count - sent }

    /// Keeps `rest`, what the other side did not take of a read (or what waits at the switch).
    mutating func hold<Bytes: Collection<UInt8>>(_ rest: Bytes) {
        bytes.append(contentsOf: rest)
    }

    /// Keeps `rest` ahead of what waits already (output queued before the switch goes first).
    mutating func holdFirst<Bytes: Collection<UInt8>>(_ rest: Bytes) {
        bytes.replaceSubrange(..<sent, with: rest)
        sent = 0
    }

    /// The other side took `count` more bytes; once all is out the storage is released.
    mutating func took(_ count: Int) {
        sent += count
        if sent >= bytes.count { clear() }
    }

    mutating func clear() {
        bytes = []
        sent = 0
    }
}
