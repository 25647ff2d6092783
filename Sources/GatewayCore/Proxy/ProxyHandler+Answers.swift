import CurlHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// The control plane, local answers, lingering close and the one exit that logs every request.
extension ProxyHandler {
    // MARK: Control plane

    func startControl(_ control: ControlExchange) {
        guard let context else { return }
        let endpoints = control.endpoints
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let request = control.request
        // An /auth/* request's WeChat call and store operations become child spans of its span.
        let scope = control.record.trace.flatMap { runtime.tracer.scope(for: $0) }
        Task {
            let response = await TraceScope.$current.withValue(scope) { await endpoints.respond(to: request) }
            loop.execute { handler.value.finishControl(response: response) }
        }
    }

    func finishControl(response: ControlResponse) {
        guard let context, let writer, case .awaitingControl(let control) = state else { return }
        state = .idle
        let closes = !control.keepAlive || draining
        let sent = writer.writeControlAnswer(
            response, version: control.version, isHeadRequest: control.request.method == .HEAD, closes: closes,
            requestID: control.request.requestID, cors: control.record.cors)
        var record = control.record
        record.log.openid = response.openid
        finish(record, .answered(status: Int(response.status.code), bodyBytes: sent, error: nil))
        if closes { context.close(promise: nil) } else { responseEnded() }
    }

    // MARK: Local answers

    /// Answers `error` and ends the request. A request whose body has not been read (`bodyUnread`) is not kept
    /// alive: its unread body would otherwise be parsed as the next request.
    func answer(
        _ error: GatewayError, record: RequestRecord, version: HTTPVersion, isHeadRequest: Bool, keepAlive: Bool,
        bodyUnread: Bool, realm: String = "gateway"
    ) {
        guard let context, let writer else { return }
        let keepsOpen = keepAlive && !draining
        let sent = writer.writeError(
            error, version: version, isHeadRequest: isHeadRequest, closes: !keepsOpen, requestID: record.log.requestID,
            realm: realm, cors: record.cors)
        finish(
            record, .answered(status: Int(error.status.code), bodyBytes: sent, error: record.log.error ?? error.code))
        if keepsOpen {
            state = .idle
            responseEnded()
        } else if bodyUnread {
            linger()
        } else {
            state = .idle
            context.close(promise: nil)
        }
    }

    // MARK: Lingering close

    /// Stops writing (the client sees the end of the answer) and reads what the client still sends, dropping it,
    /// until it stops, the bounds pass, or the request's body has all arrived.
    func linger() {
        guard let context else { return }
        let config = runtime.config.server
        state = .lingering(bytesLeft: Self.lingeringByteLimit)
        readsHeld = false
        readPending = false
        let now = NIODeadline.now()
        timer = .linger(
            idle: now + Self.timeAmount(config.lingeringTimeout), end: now + Self.timeAmount(config.lingeringTime))
        let channel = context.channel
        let closing = context.eventLoop.makePromise(of: Void.self)
        // A half-close the channel cannot do (TLS, a peer already gone) ends in a full close.
        closing.futureResult.whenFailure { _ in channel.close(promise: nil) }
        context.close(mode: .output, promise: closing)
        context.read()
    }

    func keepLingering(_ part: HTTPServerRequestPart, bytesLeft: Int) {
        guard let context, case .linger(_, let end) = timer else { return }
        switch part {
        case .body(let buffer):
            let left = bytesLeft - buffer.readableBytes
            guard left > 0 else { return context.close(promise: nil) }
            state = .lingering(bytesLeft: left)
            timer = .linger(idle: .now() + Self.timeAmount(runtime.config.server.lingeringTimeout), end: end)
        case .end:
            // The body has all arrived and the client has the answer: nothing is left unread, so closing now sends
            // a FIN, not a reset.
            context.close(promise: nil)
        case .head:
            // A pipelined request after the one answered early: never answered, the connection is ending.
            context.close(promise: nil)
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Int64(duration.milliseconds) * 1_000_000)
    }

    // MARK: The one exit

    /// Writes the request's access-log line (and, through `AccessLogger`, its metrics). The caller has already
    /// moved `state` past the request, so no later event can finish it a second time.
    func finish(_ record: RequestRecord, _ outcome: RequestOutcome) {
        var entry = record.log
        switch outcome {
        case .forwarded:
            break
        case .cutOff(let error):
            entry.error = error
        case .answered(let status, let bodyBytes, let error):
            entry.status = status
            entry.bytesOut = bodyBytes
            entry.error = error
        case .clientClosed:
            entry.status = 499
            entry.error = entry.error ?? "client_closed"
        }
        entry.durationSeconds = Double((NIODeadline.now() - record.startedAt).nanoseconds) / 1e9
        accessLogger.record(entry)
        record.trace?.end(entry)
    }

    /// Called by the inbox after a batch: one flush (one writev) for everything written to this connection.
    func flushIfNeeded() {
        flushQueued = false
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }
}
