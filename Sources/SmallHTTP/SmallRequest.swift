import NIOCore
import NIOHTTP1

/// A request collected whole by `SmallHTTPServer`: its head and its body (at most `Limits.maxBodyBytes`).
public struct SmallRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: ByteBuffer

    public init(head: HTTPRequestHead, body: ByteBuffer) {
        self.head = head
        self.body = body
    }

    public var method: HTTPMethod { head.method }
    public var uri: String { head.uri }
    /// The path of the target, without its query.
    public var path: Substring { head.uri.prefix(while: { $0 != "?" }) }
}
