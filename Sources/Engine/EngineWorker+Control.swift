#if canImport(Glibc)
import Foundation
import GatewayCore
import Glibc
import NIOCore
import NIOHTTP1

/// The control plane on an engine connection (`/auth/*`, `/.well-known/jwks.json`): not the hot path, so a task per
/// request is fine. The worker collects the bounded body, `ControlEndpoints` answers in Swift concurrency (rate
/// limits and the trusted `X-Forwarded-For` are its own, from the peer address and fields given), and the answer
/// comes back through the worker's mailbox. The connection stays in `awaitingUpstream` meanwhile, so a pipelined
/// request after it waits: answers keep their order.
extension EngineWorker {
    /// Takes the request when the snapshot's control endpoints handle its path; false: plan it as usual.
    func startControlIfHandled(
        _ client: EngineClient, head: RequestHead, target: RequestTarget?, shape: EngineConnection.RequestShape,
        now: Date, trace: RequestSpan? = nil
    ) -> Bool {
        guard let endpoints = settings.runtime?.control else { return false }
        guard let target, endpoints.handles(path: target.path) else { return false }
        // RFC 9112 section 3.2 and the header limit hold for the control plane too: the planner answers such a head.
        guard settings.planner.admissionRefusal(head, in: client.input) == nil else { return false }
        var headers = HTTPHeaders()
        var clientRequestID: Substring?
        for field in head.fields {
            let name = String(decoding: field.name.bytes(in: client.input), as: UTF8.self)
            let value = String(decoding: field.value.bytes(in: client.input), as: UTF8.self)
            if clientRequestID == nil && name.lowercased() == "x-request-id" { clientRequestID = value[...] }
            headers.add(name: name, value: value)
        }
        let requestID = clientRequestID.flatMap { RequestID.accept($0) } ?? RequestID.generate()
        let request = ControlRequest(
            method: HTTPMethod(rawValue: head.method), path: target.path, query: target.query, headers: headers,
            body: ByteBuffer(), peerAddress: client.peer, requestID: requestID)
        client.request = InFlightRequest(
            requestID: requestID, method: head.method, path: target.path, route: "control", upstream: nil,
            openid: nil, isHead: shape.isHead, isHTTP10: shape.isHTTP10, startedAt: now)
        client.request?.trace = trace
        let body = EngineConnection.RequestBody(
            announced: head.hasBody, expectsContinue: head.expectsContinue,
            maxBytes: min(settings.maxBodyBytes, ControlRequest.maximumBodyBytes))
        switch client.connection.headReceived(shape, forward: true, body: body) {
        case .startTransfer: break
        case .continueAndStartTransfer:
            // RFC 9110 section 10.1.1: the endpoint will read the body, so the client may send it now.
            client.output.append(contentsOf: Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            markDirty(client)
        case .answer, .close:
            destroy(client)
            return true
        }
        client.control = EngineControlExchange(
            id: UInt64(requests), endpoints: endpoints, request: request, shape: shape)
        if head.hasBody {
            parseBody(client)
        } else {
            runControl(client)
        }
        return true
    }

    /// Body bytes of a control request were parsed: they leave the read buffer for the exchange's body, and the
    /// endpoints run once the last one is in.
    func collectControlBody(_ client: EngineClient) {
        guard var exchange = client.control, !exchange.started else { return }
        if client.bodyEnd > client.bodyStart {
            exchange.body.append(
                contentsOf: UnsafeRawBufferPointer(
                    start: client.input + client.bodyStart, count: client.bodyEnd - client.bodyStart))
            client.bodyStart = client.bodyEnd
        }
        client.control = exchange
        if client.connection.bodyTaken(pending: client.waitingInput, limit: client.inputCapacity) {
            client.compactBody()
            client.readsHeld = false
            epoll.want(client.fd, events: EpollSet.readable | (client.pendingOutput > 0 ? EpollSet.writable : 0))
        }
        if client.connection.upload?.ended ?? true { runControl(client) }
    }

    /// Hands the request to the endpoints; their answer is posted back to this worker's mailbox.
    private func runControl(_ client: EngineClient) {
        guard var exchange = client.control, !exchange.started else { return }
        exchange.started = true
        exchange.request.body = ByteBuffer(bytes: exchange.body)
        exchange.body = []
        client.control = exchange
        let request = exchange.request
        let endpoints = exchange.endpoints
        let (fd, id) = (client.fd, exchange.id)
        let mailbox = self.mailbox
        // Its WeChat call and store operations become child spans of the request's span.
        let scope = client.request?.trace.flatMap { settings.runtime?.tracer.scope(for: $0) }
        Task {
            let response: ControlResponse
            if let scope {
                response = await scope.run { await endpoints.respond(to: request) }
            } else {
                response = await endpoints.respond(to: request)
            }
            mailbox.post(.perform { worker in worker.finishControl(fd: fd, id: id, response: response) })
        }
    }

    /// The endpoints answered: written (unless its connection closed meanwhile), logged, then the next request.
    func finishControl(fd: Int32, id: UInt64, response: ControlResponse) {
        guard Int(fd) < clients.count, let client = clients[Int(fd)], client.isOpen,
            let exchange = client.control, exchange.id == id
        else { return }
        client.control = nil
        guard case .answer(let then) = client.connection.upstreamFailed() else {
            destroy(client)
            return
        }
        let requestID = client.request?.requestID ?? exchange.request.requestID
        let (status, bodyBytes) = ClientHeadWriter.writeControlAnswer(
            response, requestID: requestID, isHead: exchange.shape.isHead, closes: then != .next,
            isHTTP10: exchange.shape.isHTTP10, cors: client.request?.cors ?? .none, into: &client.output)
        client.request?.status = status
        client.request?.bytesOut = bodyBytes
        client.request?.openid = response.openid
        finish(client, error: nil)
        markDirty(client)
        proceed(client, then)
        if then == .next { parseRequests(client) }
    }
}
#endif
