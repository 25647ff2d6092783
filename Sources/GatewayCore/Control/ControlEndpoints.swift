import NIOCore
import NIOHTTP1

/// A request the gateway answers itself (`/auth/*`, `/.well-known/jwks.json`), with its body read
/// whole: these are small JSON or form bodies, bounded by `ControlRequest.maximumBodyBytes`.
public struct ControlRequest: Sendable {
    public static let maximumBodyBytes = 64 * 1024

    public var method: HTTPMethod
    public var path: Substring
    public var query: Substring
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    public var peerAddress: String?
    public var requestID: String

    public init(
        method: HTTPMethod, path: Substring, query: Substring, headers: HTTPHeaders, body: ByteBuffer,
        peerAddress: String?, requestID: String
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.peerAddress = peerAddress
        self.requestID = requestID
    }
}

/// The answer to a `ControlRequest`.
public struct ControlResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: [(String, String)]
    public var body: String
    /// The authenticated openid, for the access log.
    public var openid: String?

    public init(status: HTTPResponseStatus, headers: [(String, String)] = [], body: String = "", openid: String? = nil)
    {
        self.status = status
        self.headers = headers
        self.body = body
        self.openid = openid
    }

    /// A JSON answer with the headers every token endpoint response needs (RFC 6749 section 5.1).
    public static func json(
        _ status: HTTPResponseStatus, _ body: String, extraHeaders: [(String, String)] = []
    ) -> ControlResponse {
        ControlResponse(
            status: status,
            headers: [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")]
                + extraHeaders,
            body: body)
    }
}

/// The control plane: endpoints answered by the gateway rather than forwarded. They may use
/// async/await (docs/architecture.md, "The control plane"); the proxy hot path never goes through here.
public protocol ControlEndpoints: Sendable {
    /// Whether `path` belongs to the control plane; checked before routing.
    func handles(path: Substring) -> Bool
    func respond(to request: ControlRequest) async -> ControlResponse
}
