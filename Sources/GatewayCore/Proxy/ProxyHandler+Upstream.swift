import CurlHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// Upstream events, performed on the event loop as the inbox delivers them.
extension ProxyHandler {
    // MARK: Upstream events (on the event loop, delivered by the inbox)

    /// Performs one upstream event. Returns whether this handler wrote bytes that the inbox should flush
    /// after its batch (and had not asked already).
    func receive(_ event: UpstreamEvent, for exchange: UpstreamExchange, from transfer: any UpstreamTransfer) -> Bool {
        switch state {
        case .proxying(let current) where current === exchange && current.transfer === transfer:
            switch event {
            case .head(let head): upstreamHead(head, exchange)
            case .bodyPart(let part): upstreamBodyPart(part, exchange, transfer)
            case .canAcceptMoreBody: releaseReads()
            case .finished(let error, let info): upstreamFinished(error, info, exchange)
            }
        case .awaitingUpstreamReport(let current) where current === exchange && current.transfer === transfer:
            if case .finished(let error, let info) = event {
                reportAfterClientClosed(exchange, error: error, info: info)
            }
        default:
            // A stale event: an earlier transfer of a retried exchange, or one whose request already ended.
            break
        }
        guard needsFlush, !flushQueued else { return false }
        flushQueued = true
        return true
    }

    func upstreamHead(_ head: CurlResponseHead, _ exchange: UpstreamExchange) {
        guard let writer else { return }
        exchange.plan.pool.recordSuccess(exchange.plan.upstreamIndex)
        guard
            let (framing, closes) = writer.writeUpstreamHead(
                head, requestID: exchange.record.log.requestID, version: exchange.requestVersion,
                keepAlive: exchange.keepAlive && !draining, isHeadRequest: exchange.isHeadRequest,
                cors: exchange.record.cors)
        else {
            exchange.transfer?.cancel()
            exchange.record.log.status = head.status
            exchange.record.log.error = "upstream_broken: invalid response header"
            return failExchange(exchange, with: .upstreamBroken)
        }
        exchange.record.log.status = head.status
        exchange.response = .streaming(
            framing: framing, sendsBody: !exchange.isHeadRequest && framing != .noBody, paused: false)
        if closes { exchange.keepAlive = false }
        // Flushed with whatever else this batch of upstream events writes (see UpstreamEventInbox),
        // so head, body and end of a small response leave in one write.
        needsFlush = true
    }

    func upstreamBodyPart(_ part: ByteBuffer, _ exchange: UpstreamExchange, _ transfer: any UpstreamTransfer) {
        guard let context, let writer, case .streaming(let framing, true, let paused) = exchange.response,
            part.readableBytes > 0
        else { return }
        // Counted as sent, as nginx's $body_bytes_sent: nothing for the answer to HEAD.
        exchange.record.log.bytesOut += part.readableBytes
        writer.writeBodyPart(part, framing: framing)
        needsFlush = true
        if !context.channel.isWritable, !paused {
            // A slow client: stop reading from the upstream until the socket drains.
            exchange.response = .streaming(framing: framing, sendsBody: true, paused: true)
            transfer.pauseResponse()
        }
    }

    func upstreamFinished(_ error: CurlError?, _ info: CurlTransferInfo, _ exchange: UpstreamExchange) {
        guard let context else { return }
        exchange.record.log.upstream = exchange.upstream.description
        exchange.record.log.upstreamSeconds = info.totalSeconds
        guard let error else {
            state = .idle
            releaseReads()
            if case .streaming(let framing, true, _) = exchange.response {
                writer?.writeEnd(framing: framing)
                needsFlush = true
            }
            finish(exchange.record, .forwarded)
            if exchange.requestBody == .streaming {
                // The upstream answered before the client finished sending: the rest of that body would be
                // read as the next request, so the connection ends here, once the client has read the answer.
                exchange.transfer = nil
                flushIfNeeded()
                linger()
            } else if !exchange.keepAlive || draining {
                flushIfNeeded()
                context.close(promise: nil)
            } else {
                responseEnded()
            }
            return
        }
        if case .couldNotConnect = error {
            exchange.plan.pool.recordConnectFailure(exchange.plan.upstreamIndex)
            if let next = RequestPlanner.retry(
                exchange.plan, attempts: exchange.attempts, requestWasSent: info.requestWasSent)
            {
                exchange.attempts += 1
                exchange.plan = next
                exchange.transfer = upstreams.start(next.request, for: exchange, affinity: inbox.index)
                return
            }
        }
        // Mid-body, the client sees a cut response; before the head, a clean error answer.
        exchange.record.log.error =
            exchange.responseStarted ? "upstream_broken: \(Self.describe(error))" : Self.describe(error)
        failExchange(exchange, with: GatewayError(error))
    }

    /// The end of a transfer whose client closed after its answer had started: complete when the upstream's whole
    /// body had been written to the client before it closed, cut off (`client_closed`) otherwise.
    func reportAfterClientClosed(_ exchange: UpstreamExchange, error: CurlError?, info: CurlTransferInfo) {
        state = .idle
        exchange.transfer = nil
        exchange.record.log.upstream = exchange.upstream.description
        exchange.record.log.upstreamSeconds = info.totalSeconds
        if error != nil || exchange.record.log.bytesOut != info.responseBodyBytes {
            finish(exchange.record, .cutOff(error: exchange.record.log.error ?? "client_closed"))
        } else {
            finish(exchange.record, .forwarded)
        }
    }

    /// Ends a forwarded request that failed: a clean error answer while nothing has been sent, otherwise a cut-off
    /// response (the client must never see a truncated answer that looks complete).
    func failExchange(_ exchange: UpstreamExchange, with error: GatewayError) {
        state = .idle
        if exchange.responseStarted {
            finish(exchange.record, .cutOff(error: exchange.record.log.error ?? error.code))
            flushIfNeeded()
            context?.close(promise: nil)
            return
        }
        releaseReads()
        let requestComplete = exchange.requestBody != .streaming
        answer(
            error, record: exchange.record, version: exchange.requestVersion,
            isHeadRequest: exchange.isHeadRequest, keepAlive: exchange.keepAlive && requestComplete,
            bodyUnread: !requestComplete)
    }
}
