import CurlHTTP
import NIOCore
import NIOHTTP1

/// One request being forwarded: the plan it was sent with, the transfer carrying it, and where its answer
/// has got to. Only `ProxyHandler` reads or changes it, on the connection's event loop; the curl thread
/// only calls the `CurlTransferDelegate` methods, which post to the loop's inbox and touch no field.
final class UpstreamExchange: CurlTransferDelegate, @unchecked Sendable {
    /// How much of the request's body has been handed to the transfer.
    enum RequestBody: Equatable {
        case none
        case streaming
        case complete
    }

    /// Where the answer to the client has got to; each case carries what is valid in it.
    enum Response {
        /// No head from the upstream yet: a failure can still be answered with a clean error.
        case awaitingHead
        /// The head went to the client; body bytes follow in `framing`, none at all for HEAD or a bodiless status.
        /// `paused` while the client's socket is full and the transfer is paused.
        case streaming(framing: ResponseFraming, sendsBody: Bool, paused: Bool)
    }

    let handler: NIOLoopBound<ProxyHandler>
    private let inbox: UpstreamEventInbox

    var plan: ForwardPlan
    var transfer: (any UpstreamTransfer)?
    var requestBody: RequestBody
    var response = Response.awaitingHead
    var attempts = 1
    var record: RequestRecord
    var keepAlive: Bool
    let requestVersion: HTTPVersion

    init(
        inbox: UpstreamEventInbox, handler: ProxyHandler, plan: ForwardPlan, record: RequestRecord,
        head: HTTPRequestHead
    ) {
        self.inbox = inbox
        self.handler = NIOLoopBound(handler, eventLoop: inbox.eventLoop)
        self.plan = plan
        self.requestBody = plan.hasBody ? .streaming : .none
        self.record = record
        self.keepAlive = head.isKeepAlive
        self.requestVersion = head.version
    }

    var upstream: UpstreamURL { plan.pool.upstreams[plan.upstreamIndex] }
    var isHeadRequest: Bool { plan.request.method == "HEAD" }
    var responseStarted: Bool {
        if case .awaitingHead = response { return false }
        return true
    }

    /// Hands an event of `transfer` to the connection's event loop (batched; see `UpstreamEventInbox`).
    func post(_ event: UpstreamEvent, from transfer: any UpstreamTransfer) {
        inbox.post(self, transfer, event)
    }

    // MARK: CurlTransferDelegate (curl thread)

    func transfer(_ t: CurlTransfer, didReceiveHead head: CurlResponseHead) {
        post(.head(head), from: t)
    }

    func transfer(_ t: CurlTransfer, didReceiveBodyPart part: ByteBuffer) {
        post(.bodyPart(part), from: t)
    }

    func transferCanAcceptMoreBody(_ t: CurlTransfer) {
        post(.canAcceptMoreBody, from: t)
    }

    func transfer(_ t: CurlTransfer, didFinishWith error: CurlError?, info: CurlTransferInfo) {
        post(.finished(error, info), from: t)
    }
}
