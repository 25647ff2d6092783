import CurlHTTP
import NIOCore
import NIOHTTP1

/// One request being forwarded: the bridge between a libcurl transfer (whose callbacks arrive on a curl
/// thread) and the client's channel handler (which lives on an event loop). Every callback is moved to
/// the event loop before it touches anything; all mutable state is only ever used there.
final class UpstreamExchange: CurlTransferDelegate, @unchecked Sendable {
    enum RequestBody {
        case none
        case streaming
        case complete
    }

    let eventLoop: any EventLoop
    let handler: NIOLoopBound<ProxyHandler>
    private let inbox: UpstreamEventInbox

    // Event-loop state.
    var transfer: CurlTransfer?
    let route: RouteConfig
    let pool: UpstreamPool
    var upstreamIndex: Int
    let curlRequest: CurlRequest
    /// Path and query (with its `?`, or empty) as forwarded: the part of the URL after the upstream's base.
    let forwardedPath: Substring
    let forwardedQuery: Substring
    var requestBody: RequestBody
    var responseStarted = false
    /// The client closed after the answer had started: the exchange is logged when libcurl reports its end.
    var clientGone = false
    var responsePaused = false
    var attempts = 1
    var log: AccessLogEntry
    let startedAt: NIODeadline
    /// Cleared when the answer can only end with the connection's close.
    var keepAlive: Bool
    let requestVersion: HTTPVersion
    /// How the answer's body is delimited for the client, set from its head.
    var framing = ResponseFraming.contentLength
    /// False for the answer to a HEAD request and for statuses without a body: body bytes are not written.
    var sendsBody = true

    init(
        inbox: UpstreamEventInbox, handler: ProxyHandler, route: RouteConfig, pool: UpstreamPool, upstreamIndex: Int,
        curlRequest: CurlRequest, forwardedPath: Substring, forwardedQuery: Substring, hasBody: Bool, log: AccessLogEntry, startedAt: NIODeadline, keepAlive: Bool,
        requestVersion: HTTPVersion
    ) {
        self.eventLoop = inbox.eventLoop
        self.inbox = inbox
        self.handler = NIOLoopBound(handler, eventLoop: inbox.eventLoop)
        self.route = route
        self.pool = pool
        self.upstreamIndex = upstreamIndex
        self.curlRequest = curlRequest
        self.forwardedPath = forwardedPath
        self.forwardedQuery = forwardedQuery
        self.requestBody = hasBody ? .streaming : .none
        self.log = log
        self.startedAt = startedAt
        self.keepAlive = keepAlive
        self.requestVersion = requestVersion
    }

    var upstream: UpstreamURL { pool.upstreams[upstreamIndex] }

    // MARK: CurlTransferDelegate (curl thread)

    func transfer(_ t: CurlTransfer, didReceiveHead head: CurlResponseHead) {
        inbox.post(.head(self, t, head))
    }

    func transfer(_ t: CurlTransfer, didReceiveBodyPart part: ByteBuffer) {
        inbox.post(.body(self, t, part))
    }

    func transferCanAcceptMoreBody(_ t: CurlTransfer) {
        inbox.post(.canAcceptMoreBody(self, t))
    }

    func transfer(_ t: CurlTransfer, didFinishWith error: CurlError?, info: CurlTransferInfo) {
        inbox.post(.finish(self, t, error, info))
    }
}
