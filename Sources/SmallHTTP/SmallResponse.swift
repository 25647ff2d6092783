import NIOCore
import NIOHTTP1

/// One whole answer of a `SmallHTTPServer`. `Content-Length`, `Date` and `Connection` are added by the server.
public struct SmallResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: [(String, String)]
    public var body: ByteBuffer

    public init(status: HTTPResponseStatus, headers: [(String, String)] = [], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON answer.
    public static func json(
        _ status: HTTPResponseStatus, _ text: String, headers: [(String, String)] = []
    ) -> SmallResponse {
        SmallResponse(
            status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers,
            body: ByteBuffer(string: text))
    }
}
